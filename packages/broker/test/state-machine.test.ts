import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { encodeAdvance, encodeCommit } from '../src/partition/commands.js';
import { PartitionStore } from '../src/partition/partition-store.js';
import { PRODUCER_WINDOW } from '../src/partition/producer-window.js';
import { PartitionStateMachine } from '../src/partition/state-machine.js';
import { produceCmd } from './helpers.js';

function fresh(group = 't/0'): { sm: PartitionStateMachine; store: PartitionStore } {
  const store = new PartitionStore(openDatabase(':memory:'));
  return { store, sm: new PartitionStateMachine(store, group, 't', 0) };
}

describe('partition state machine', () => {
  it('assigns consecutive offsets from 0, one batch per entry', () => {
    const { sm } = fresh();
    expect(sm.apply(1, new Uint8Array())).toEqual({ kind: 'noop' });
    expect(sm.apply(2, produceCmd(3))).toEqual({ kind: 'produce', baseOffset: 0, count: 3, duplicate: false });
    expect(sm.apply(3, produceCmd(2, { prefix: 'b' }))).toEqual({
      kind: 'produce',
      baseOffset: 3,
      count: 2,
      duplicate: false,
    });
    expect(sm.nextOffset).toBe(5);
    expect(sm.appliedIndex).toBe(3);
    const all = sm.read(0, 100, 1 << 20);
    expect(all.records.map((r) => [r.offset, r.value])).toEqual([
      [0, 'm-0'],
      [1, 'm-1'],
      [2, 'm-2'],
      [3, 'b-0'],
      [4, 'b-1'],
    ]);
    expect(all.nextOffset).toBe(5);
  });

  it('reads from the middle of a batch and honours maxMessages and maxBytes (at least one record)', () => {
    const { sm } = fresh();
    sm.apply(1, produceCmd(10));
    expect(sm.read(4, 3, 1 << 20).records.map((r) => r.offset)).toEqual([4, 5, 6]);
    const r = sm.read(4, 100, 6);
    expect(r.records.map((x) => x.offset)).toEqual([4, 5]);
    expect(r.nextOffset).toBe(6);
    expect(sm.read(4, 100, 1).records).toHaveLength(1);
    expect(sm.read(10, 100, 1 << 20)).toEqual({ records: [], nextOffset: 10 });
  });

  it('reads the same records however the log is cut into batches, and leaves the store usable (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 40 }),
        (sizes, at, maxMessages, maxBytes) => {
          const { sm } = fresh();
          const flat: string[] = [];
          sizes.forEach((n, b) => {
            sm.apply(b + 1, produceCmd(n, { prefix: `b${b}` }));
            for (let i = 0; i < n; i++) flat.push(`b${b}-${i}`);
          });
          const offset = at % (flat.length + 1);
          // Reference: at most maxMessages, stop before exceeding maxBytes, but always the first record.
          const want: string[] = [];
          let bytes = 0;
          for (let o = offset; o < flat.length && want.length < maxMessages; o++) {
            if (want.length > 0 && bytes + flat[o].length > maxBytes) break;
            bytes += flat[o].length;
            want.push(flat[o]);
          }
          const got = sm.read(offset, maxMessages, maxBytes);
          expect(got.records.map((r) => r.value)).toEqual(want);
          expect(got.records.map((r) => r.offset)).toEqual(want.map((_, i) => offset + i));
          expect(got.nextOffset).toBe(offset + want.length);
          // A reader going through the log chunk by chunk (reusing the batch the last read stopped in).
          const chunks: string[] = [];
          for (let o = offset, n = 0; o < flat.length && n <= flat.length; n++) {
            const part = sm.read(o, maxMessages, maxBytes);
            chunks.push(...part.records.map((r) => r.value));
            o = part.nextOffset;
          }
          expect(chunks).toEqual(flat.slice(offset));
          // A read that stopped early closed its cursor: the connection takes writes again.
          expect(sm.apply(sizes.length + 1, produceCmd(1))).toMatchObject({ kind: 'produce', baseOffset: flat.length });
        },
      ),
    );
  });

  it('ignores entries at or below the applied index (replay after restart)', () => {
    const { sm } = fresh();
    sm.apply(1, produceCmd(2));
    expect(sm.apply(1, produceCmd(2))).toEqual({ kind: 'noop' });
    expect(sm.nextOffset).toBe(2);
  });

  it('acknowledges a retried idempotent batch with its original offsets and stores it once', () => {
    const { sm } = fresh();
    sm.apply(1, produceCmd(5, { producerId: 7, sequence: 0 }));
    sm.apply(2, produceCmd(3, { producerId: 8, sequence: 0 }));
    expect(sm.apply(3, produceCmd(5, { producerId: 7, sequence: 0 }))).toEqual({
      kind: 'produce',
      baseOffset: 0,
      count: 5,
      duplicate: true,
    });
    expect(sm.apply(4, produceCmd(2, { producerId: 7, sequence: 5 }))).toEqual({
      kind: 'produce',
      baseOffset: 8,
      count: 2,
      duplicate: false,
    });
    expect(sm.nextOffset).toBe(10);
  });

  it('rejects sequence gaps, mismatched retries and retries older than the window', () => {
    const { sm } = fresh();
    sm.apply(1, produceCmd(2, { producerId: 1, sequence: 10 }));
    expect(sm.apply(2, produceCmd(1, { producerId: 1, sequence: 13 }))).toMatchObject({
      kind: 'rejected',
      code: 'MQ_ERR_OUT_OF_ORDER_SEQUENCE',
    });
    expect(sm.apply(3, produceCmd(3, { producerId: 1, sequence: 10 }))).toMatchObject({ kind: 'rejected' });
    for (let i = 0; i < PRODUCER_WINDOW; i++) sm.apply(4 + i, produceCmd(1, { producerId: 1, sequence: 12 + i }));
    expect(sm.apply(20, produceCmd(2, { producerId: 1, sequence: 10 }))).toMatchObject({
      kind: 'rejected',
      code: 'MQ_ERR_OUT_OF_ORDER_SEQUENCE',
    });
    expect(sm.apply(21, produceCmd(1, { producerId: 1, sequence: 13 }))).toMatchObject({
      kind: 'produce',
      duplicate: true,
      baseOffset: 3,
    });
    expect(sm.nextOffset).toBe(2 + PRODUCER_WINDOW);
    expect(sm.appliedIndex).toBe(21);
  });

  it('keeps consumer positions: commit clamps, advance is compare-and-set', () => {
    const { sm } = fresh();
    sm.apply(1, produceCmd(4));
    expect(sm.position(42)).toBe(0);
    expect(sm.apply(2, encodeAdvance(42, 0, 2))).toEqual({
      kind: 'position',
      consumerId: 42,
      position: 2,
      advanced: true,
    });
    expect(sm.apply(3, encodeAdvance(42, 0, 3))).toEqual({
      kind: 'position',
      consumerId: 42,
      position: 2,
      advanced: false,
    });
    expect(sm.apply(4, encodeAdvance(42, 2, 9))).toMatchObject({ advanced: false });
    expect(sm.apply(5, encodeCommit(42, 100))).toMatchObject({ position: 4 });
    expect(sm.apply(6, encodeCommit(43, 1))).toMatchObject({ position: 1 });
    expect(sm.position(42)).toBe(4);
  });

  it('reloads everything from the database (restart)', () => {
    const { sm, store } = fresh();
    sm.apply(1, produceCmd(3, { producerId: 5, sequence: 0 }));
    sm.apply(2, encodeCommit(9, 2));
    const again = new PartitionStateMachine(store, 't/0', 't', 0);
    expect(again.appliedIndex).toBe(2);
    expect(again.nextOffset).toBe(3);
    expect(again.position(9)).toBe(2);
    expect(again.apply(3, produceCmd(3, { producerId: 5, sequence: 0 }))).toMatchObject({
      duplicate: true,
      baseOffset: 0,
    });
    expect(again.read(0, 10, 1000).records.map((r) => r.value)).toEqual(['m-0', 'm-1', 'm-2']);
  });

  it('round-trips a full snapshot into an empty replica, and restores a header-only one in place', () => {
    const { sm } = fresh();
    sm.apply(1, produceCmd(3, { producerId: 5, sequence: 0 }));
    sm.apply(2, produceCmd(2, { prefix: 'x' }));
    sm.apply(3, encodeCommit(9, 4));
    const snap = sm.materializeSnapshot();
    const header = sm.compactSnapshot();

    const { sm: other } = fresh();
    other.apply(1, produceCmd(3, { prefix: 'stale' }));
    expect(other.read(0, 1, 1 << 20).records.map((r) => r.value)).toEqual(['stale-0']); // stops inside a batch
    other.restore(3, snap);
    expect(other.appliedIndex).toBe(3);
    expect(other.read(0, 100, 1 << 20)).toEqual(sm.read(0, 100, 1 << 20));
    expect(other.position(9)).toBe(4);
    expect(other.apply(4, produceCmd(3, { producerId: 5, sequence: 0 }))).toMatchObject({
      duplicate: true,
      baseOffset: 0,
    });

    sm.apply(4, produceCmd(1, { prefix: 'later' }));
    sm.restore(3, header);
    expect(sm.nextOffset).toBe(5);
    expect(sm.read(0, 100, 1 << 20)).toEqual(other.read(0, 100, 1 << 20));
  });

  it('wakes a long poll when records arrive', async () => {
    const { sm } = fresh();
    const waiting = sm.waitForOffset(0, 10_000);
    sm.apply(1, produceCmd(1));
    await waiting;
    expect(sm.read(0, 10, 100).records).toHaveLength(1);
    await sm.waitForOffset(5, 1); // times out quietly
  });

  it('any interleaving of batches and retries yields contiguous offsets and no duplicates (property)', () => {
    // Each producer writes its batches in order; a retry re-sends one of its last PRODUCER_WINDOW batches.
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('send' as const),
        producer: fc.integer({ min: 1, max: 3 }),
        size: fc.integer({ min: 1, max: 4 }),
      }),
      fc.record({
        kind: fc.constant('retry' as const),
        producer: fc.integer({ min: 1, max: 3 }),
        back: fc.integer({ min: 0, max: PRODUCER_WINDOW - 1 }),
      }),
      fc.record({ kind: fc.constant('plain' as const), size: fc.integer({ min: 1, max: 3 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { sm } = fresh();
        const sent = new Map<number, { seq: number; size: number; base?: number }[]>();
        let index = 0;
        let expectedRecords = 0;
        for (const o of ops) {
          index++;
          if (o.kind === 'plain') {
            sm.apply(index, produceCmd(o.size, { prefix: `plain${index}` }));
            expectedRecords += o.size;
            continue;
          }
          const batches = sent.get(o.producer) ?? [];
          sent.set(o.producer, batches);
          if (o.kind === 'send') {
            const last = batches.at(-1);
            const seq = last ? last.seq + last.size : 0;
            const r = sm.apply(
              index,
              produceCmd(o.size, { producerId: o.producer, sequence: seq, prefix: `p${o.producer}s${seq}` }),
            );
            if (r.kind !== 'produce' || r.duplicate) return false;
            batches.push({ seq, size: o.size, base: r.baseOffset });
            expectedRecords += o.size;
          } else {
            const b = batches[batches.length - 1 - o.back];
            if (!b) continue;
            const r = sm.apply(index, produceCmd(b.size, { producerId: o.producer, sequence: b.seq, prefix: 'retry' }));
            if (r.kind !== 'produce' || !r.duplicate || r.baseOffset !== b.base) return false;
          }
        }
        const { records } = sm.read(0, 100_000, 1 << 30);
        expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
        expect(records).toHaveLength(expectedRecords);
        expect(records.some((r) => r.value.startsWith('retry'))).toBe(false);
        const values = records.map((r) => r.value);
        // every producer's records appear once each, at the offsets acknowledged to it
        for (const [producer, batches] of sent) {
          for (const b of batches)
            for (let i = 0; i < b.size; i++) expect(values[b.base! + i]).toBe(`p${producer}s${b.seq}-${i}`);
        }
        return true;
      }),
      { numRuns: 150 },
    );
  });
});
