/**
 * The RaftStorage conformance suite: every storage implementation runs these same cases
 * (memory-storage.test.ts, sqlite-storage.test.ts). They pin down the LogReader/GroupStorage contract in
 * src/storage.ts: bounds, sizes, errors, snapshots, hard state, group isolation, transactions, restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CompactedError, LogGapError, SnapshotOutOfDateError, UnavailableError } from '../src/storage/errors.js';
import { entrySize } from '../src/storage/log-util.js';
import type { GroupStorage, RaftStorage } from '../src/storage.js';
import type { ConfState, Entry, Snapshot } from '../src/types.js';
import { EntryType } from '../src/types.js';

export interface StorageHarness {
  /** A fresh, empty storage. */
  create(): RaftStorage;
  /** What a restarted process sees: closes (or crashes) `storage` after its transactions are durable and opens it again. */
  restart(storage: RaftStorage): RaftStorage;
  /** Called after each test (delete files). */
  cleanup?(): void;
}

export function entry(index: number, term: number, size = 4, type: EntryType = EntryType.Normal): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + i) & 0xff;
  return { index, term, type, data };
}

/** entries lo..hi inclusive, all with `term`. */
export function run(lo: number, hi: number, term: number, size = 4): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(entry(i, term, size));
  return out;
}

const conf: ConfState = { voters: ['a', 'b', 'c'], learners: ['d'], votersOutgoing: [] };

function snap(index: number, term: number, data = [1, 2, 3]): Snapshot {
  return { meta: { index, term, conf }, data: Uint8Array.from(data) };
}

/** Compares entries by value (storages may return Buffers for Uint8Arrays). */
function plain(entries: readonly Entry[]): { index: number; term: number; type: EntryType; data: number[] }[] {
  return entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: [...e.data] }));
}

function terms(g: GroupStorage): number[] {
  return g.entries(g.firstIndex(), g.lastIndex() + 1, Infinity).map((e) => e.term);
}

export function storageConformance(name: string, harness: StorageHarness): void {
  describe(`${name}: RaftStorage conformance`, () => {
    const open: RaftStorage[] = [];
    const create = () => {
      const s = harness.create();
      open.push(s);
      return s;
    };
    const restart = (s: RaftStorage) => {
      const r = harness.restart(s);
      open.push(r);
      return r;
    };
    afterEach(() => {
      for (const s of open.splice(0)) {
        try {
          s.close();
        } catch {
          // already closed or crashed
        }
      }
      harness.cleanup?.();
    });

    it('starts empty: first index 1, last index 0, empty snapshot and hard state', () => {
      const s = create();
      const g = s.group('g');
      expect(g.group).toBe('g');
      expect(g.firstIndex()).toBe(1);
      expect(g.lastIndex()).toBe(0);
      expect(g.term(0)).toBe(0);
      expect(g.entries(1, 1, Infinity)).toEqual([]);
      expect(g.initialState()).toEqual({
        hardState: { term: 0, vote: '', commit: 0 },
        confState: { voters: [], learners: [], votersOutgoing: [] },
      });
      const sn = g.snapshot();
      expect(sn.meta.index).toBe(0);
      expect(sn.meta.term).toBe(0);
      expect(sn.data.byteLength).toBe(0);
      expect(() => g.term(1)).toThrow(UnavailableError);
      expect(s.groups()).toEqual(['g']);
    });

    it('appends, reads back by value, and answers term() over the whole range', () => {
      const g = create().group('g');
      g.append([...run(1, 3, 1), entry(4, 2, 0, EntryType.ConfChange), entry(5, 2, 100)]);
      expect(g.firstIndex()).toBe(1);
      expect(g.lastIndex()).toBe(5);
      expect([0, 1, 2, 3, 4, 5].map((i) => g.term(i))).toEqual([0, 1, 1, 1, 2, 2]);
      expect(plain(g.entries(1, 6, Infinity))).toEqual(
        plain([...run(1, 3, 1), entry(4, 2, 0, EntryType.ConfChange), entry(5, 2, 100)]),
      );
      expect(plain(g.entries(2, 4, Infinity))).toEqual(plain(run(2, 3, 1)));
      g.append([]);
      expect(g.lastIndex()).toBe(5);
      g.append(run(6, 7, 3));
      expect(g.lastIndex()).toBe(7);
      expect(g.term(7)).toBe(3);
    });

    it('an append replaces every stored entry from its first index on', () => {
      const g = create().group('g');
      g.append(run(1, 5, 1));
      g.append(run(3, 4, 2));
      expect(g.lastIndex()).toBe(4);
      expect(terms(g)).toEqual([1, 1, 2, 2]);
      expect(() => g.term(5)).toThrow(UnavailableError);
      g.append(run(2, 2, 3));
      expect(g.lastIndex()).toBe(2);
      expect(g.term(2)).toBe(3);
      g.append(run(1, 6, 4));
      expect(terms(g)).toEqual([4, 4, 4, 4, 4, 4]);
    });

    it('refuses appends that leave a gap or are not contiguous, changing nothing', () => {
      const g = create().group('g');
      g.append(run(1, 3, 1));
      expect(() => g.append(run(5, 6, 1))).toThrow(LogGapError);
      expect(() => g.append([entry(4, 1), entry(6, 1)])).toThrow(LogGapError);
      expect(g.lastIndex()).toBe(3);
      expect(terms(g)).toEqual([1, 1, 1]);
    });

    it('entries() returns at least one entry and then stays within maxBytes', () => {
      const g = create().group('g');
      g.append(run(1, 5, 1, 10));
      const size = entrySize(entry(1, 1, 10));
      expect(size).toBeGreaterThanOrEqual(10);
      expect(g.entries(1, 6, 0).map((e) => e.index)).toEqual([1]);
      expect(g.entries(1, 6, size - 1).map((e) => e.index)).toEqual([1]);
      expect(g.entries(1, 6, 2 * size + 5).map((e) => e.index)).toEqual([1, 2]);
      expect(g.entries(1, 6, 3 * size).map((e) => e.index)).toEqual([1, 2, 3]);
      expect(g.entries(2, 4, 1000).map((e) => e.index)).toEqual([2, 3]);
      expect(g.entries(3, 3, 0)).toEqual([]);
    });

    it('throws CompactedError below the log and UnavailableError above it', () => {
      const g = create().group('g');
      g.append(run(1, 5, 1));
      expect(() => g.entries(0, 2, Infinity)).toThrow(CompactedError);
      expect(() => g.entries(1, 7, Infinity)).toThrow(UnavailableError);
      expect(() => g.entries(6, 7, Infinity)).toThrow(UnavailableError);
      expect(() => g.entries(4, 3, Infinity)).toThrow(RangeError);
      expect(g.entries(6, 6, Infinity)).toEqual([]);
      expect(() => g.term(6)).toThrow(UnavailableError);
      g.createSnapshot(snap(3, 1), 0);
      expect(() => g.term(2)).toThrow(CompactedError);
      expect(() => g.entries(3, 5, Infinity)).toThrow(CompactedError);
      expect(g.term(3)).toBe(1);
      expect(g.entries(4, 6, Infinity).map((e) => e.index)).toEqual([4, 5]);
    });

    it('createSnapshot records the snapshot and compacts up to index - retain', () => {
      const s = create();
      const g = s.group('g');
      g.append([...run(1, 4, 1), ...run(5, 10, 2)]);
      g.createSnapshot(snap(6, 2, [9, 9]), 2);
      expect(g.firstIndex()).toBe(5);
      expect(g.lastIndex()).toBe(10);
      expect(g.term(4)).toBe(1);
      expect(() => g.term(3)).toThrow(CompactedError);
      expect(g.snapshot().meta).toEqual({ index: 6, term: 2, conf });
      expect([...g.snapshot().data]).toEqual([9, 9]);
      expect(g.initialState().confState).toEqual(conf);
      // A later snapshot with a large retain never un-compacts.
      g.createSnapshot(snap(8, 2), 100);
      expect(g.firstIndex()).toBe(5);
      expect(g.snapshot().meta.index).toBe(8);
      // Everything up to the snapshot, the whole log.
      g.createSnapshot(snap(10, 2), 0);
      expect(g.firstIndex()).toBe(11);
      expect(g.lastIndex()).toBe(10);
      expect(g.term(10)).toBe(2);
      g.append(run(11, 12, 3));
      expect(g.lastIndex()).toBe(12);
      expect(g.term(10)).toBe(2);
    });

    it('createSnapshot refuses stale, future and wrong-term snapshots', () => {
      const g = create().group('g');
      g.append(run(1, 5, 1));
      g.createSnapshot(snap(3, 1), 0);
      expect(() => g.createSnapshot(snap(2, 1), 0)).toThrow(SnapshotOutOfDateError);
      expect(() => g.createSnapshot(snap(6, 1), 0)).toThrow(UnavailableError);
      expect(() => g.createSnapshot(snap(4, 7), 0)).toThrow(RangeError);
      expect(() => g.createSnapshot(snap(4, 1), -1)).toThrow(RangeError);
      expect(g.snapshot().meta.index).toBe(3);
      expect(g.firstIndex()).toBe(4);
    });

    it('applySnapshot replaces the whole log; appends continue after it, skipping compacted entries', () => {
      const g = create().group('g');
      g.append(run(1, 5, 1));
      g.applySnapshot(snap(10, 3, [4, 5]));
      expect(g.firstIndex()).toBe(11);
      expect(g.lastIndex()).toBe(10);
      expect(g.term(10)).toBe(3);
      expect(() => g.term(9)).toThrow(CompactedError);
      expect(g.snapshot().meta).toEqual({ index: 10, term: 3, conf });
      expect([...g.snapshot().data]).toEqual([4, 5]);
      expect(g.initialState().confState).toEqual(conf);
      g.append(run(9, 12, 3));
      expect(g.firstIndex()).toBe(11);
      expect(g.lastIndex()).toBe(12);
      expect(g.entries(11, 13, Infinity).map((e) => e.index)).toEqual([11, 12]);
      g.append(run(5, 8, 3));
      expect(g.lastIndex()).toBe(12);
      expect(() => g.applySnapshot(snap(9, 3))).toThrow(SnapshotOutOfDateError);
      // A snapshot inside the current log also discards it (the leader's snapshot wins).
      g.applySnapshot(snap(11, 3));
      expect(g.firstIndex()).toBe(12);
      expect(g.lastIndex()).toBe(11);
    });

    it('stores and returns the hard state', () => {
      const g = create().group('g');
      g.setHardState({ term: 3, vote: 'b', commit: 0 });
      expect(g.initialState().hardState).toEqual({ term: 3, vote: 'b', commit: 0 });
      g.setHardState({ term: 4, vote: '', commit: 7 });
      expect(g.initialState().hardState).toEqual({ term: 4, vote: '', commit: 7 });
    });

    it('keeps groups isolated; dropGroup removes one and it comes back empty', () => {
      const s = create();
      const a = s.group('orders/0');
      const b = s.group('orders/1');
      a.append(run(1, 3, 1));
      a.setHardState({ term: 1, vote: 'a', commit: 2 });
      b.append(run(1, 8, 2));
      b.createSnapshot(snap(5, 2), 0);
      expect(terms(a)).toEqual([1, 1, 1]);
      expect(a.firstIndex()).toBe(1);
      expect(b.firstIndex()).toBe(6);
      expect(b.initialState().hardState.term).toBe(0);
      expect(s.groups().sort()).toEqual(['orders/0', 'orders/1']);
      expect(s.group('orders/0')).toBe(a);
      s.dropGroup('orders/1');
      s.dropGroup('never-existed');
      expect(s.groups()).toEqual(['orders/0']);
      expect(() => b.lastIndex()).toThrow();
      const b2 = s.group('orders/1');
      expect(b2.lastIndex()).toBe(0);
      expect(b2.snapshot().meta.index).toBe(0);
      expect(terms(a)).toEqual([1, 1, 1]);
    });

    it('transaction() makes writes of several groups visible together and rolls all back on throw', () => {
      const s = create();
      const a = s.group('a');
      const b = s.group('b');
      const result = s.transaction(() => {
        a.append(run(1, 2, 1));
        b.append(run(1, 3, 1));
        b.setHardState({ term: 1, vote: 'x', commit: 1 });
        return 42;
      });
      expect(result).toBe(42);
      expect(() =>
        s.transaction(() => {
          a.append(run(2, 5, 2));
          a.setHardState({ term: 2, vote: 'y', commit: 2 });
          b.createSnapshot(snap(3, 1), 0);
          s.group('c').append(run(1, 1, 1));
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(a.lastIndex()).toBe(2);
      expect(terms(a)).toEqual([1, 1]);
      expect(a.initialState().hardState).toEqual({ term: 0, vote: '', commit: 0 });
      expect(b.firstIndex()).toBe(1);
      expect(b.snapshot().meta.index).toBe(0);
      expect(b.initialState().hardState).toEqual({ term: 1, vote: 'x', commit: 1 });
      expect(s.groups().sort()).toEqual(['a', 'b']);
    });

    it('nested transactions: an inner one that throws is undone alone', () => {
      const s = create();
      const g = s.group('g');
      s.transaction(() => {
        g.append(run(1, 2, 1));
        expect(() =>
          s.transaction(() => {
            g.append(run(3, 9, 1));
            g.setHardState({ term: 5, vote: 'z', commit: 0 });
            throw new Error('inner');
          }),
        ).toThrow('inner');
        expect(g.lastIndex()).toBe(2);
        s.transaction(() => g.append(run(3, 3, 2)));
      });
      expect(terms(g)).toEqual([1, 1, 2]);
      expect(g.initialState().hardState.term).toBe(0);
    });

    it('survives a restart with log, hard state, snapshot, compaction and groups intact', () => {
      const s = create();
      const a = s.group('a');
      const b = s.group('b');
      s.transaction(() => {
        a.append([...run(1, 5, 1, 7), ...run(6, 9, 2, 3)]);
        a.setHardState({ term: 2, vote: 'a', commit: 8 });
        a.createSnapshot(snap(6, 2, [6, 6, 6]), 1);
        b.applySnapshot(snap(20, 4));
        b.append(run(21, 22, 5));
      });
      s.dropGroup('c');
      s.group('empty');
      const r = restart(s);
      expect(r.groups().sort()).toEqual(['a', 'b', 'empty']);
      const a2 = r.group('a');
      expect(a2.firstIndex()).toBe(6);
      expect(a2.lastIndex()).toBe(9);
      expect(a2.term(5)).toBe(1);
      expect(a2.initialState()).toEqual({ hardState: { term: 2, vote: 'a', commit: 8 }, confState: conf });
      expect(plain(a2.entries(6, 10, Infinity))).toEqual(plain(run(6, 9, 2, 3)));
      expect([...a2.snapshot().data]).toEqual([6, 6, 6]);
      const b2 = r.group('b');
      expect(b2.firstIndex()).toBe(21);
      expect(b2.term(20)).toBe(4);
      expect(b2.term(22)).toBe(5);
      expect(r.group('empty').lastIndex()).toBe(0);
      a2.append(run(10, 10, 3));
      expect(a2.lastIndex()).toBe(10);
    });

    it('an unsynced transaction is visible at once and durable with the next synced one', () => {
      const s = create();
      const g = s.group('g');
      s.transaction(() => g.append(run(1, 3, 1)), { sync: false });
      expect(g.lastIndex()).toBe(3);
      s.transaction(() => g.setHardState({ term: 1, vote: '', commit: 3 }));
      const r = restart(s).group('g');
      expect(r.lastIndex()).toBe(3);
      expect(r.initialState().hardState.commit).toBe(3);
    });

    it('fails loudly once closed', () => {
      const s = create();
      const g = s.group('g');
      s.close();
      expect(() => g.lastIndex()).toThrow();
      expect(() => s.group('g')).toThrow();
    });
  });
}
