import { describe, expect, it } from 'vitest';
import { StorageClosedError } from '../src/storage/errors.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import type { RaftStorage } from '../src/storage.js';
import { run, storageConformance } from './storage-conformance.js';

storageConformance('MemoryStorage (auto sync)', {
  create: () => new MemoryStorage(),
  restart: (s: RaftStorage) => (s as MemoryStorage).crash(),
});

storageConformance('MemoryStorage (manual sync)', {
  create: () => new MemoryStorage({ sync: 'manual' }),
  restart: (s: RaftStorage) => {
    const m = s as MemoryStorage;
    m.sync();
    return m.crash();
  },
});

describe('MemoryStorage: unsynced writes', () => {
  it('a crash loses every transaction not yet synced, whole', () => {
    const s = new MemoryStorage({ sync: 'manual' });
    const g = s.group('g');
    s.transaction(() => {
      g.append(run(1, 3, 1));
      g.setHardState({ term: 1, vote: 'a', commit: 1 });
    });
    s.sync();
    s.transaction(() => {
      g.append(run(4, 6, 1));
      g.setHardState({ term: 1, vote: 'a', commit: 5 });
    });
    g.append(run(7, 7, 1));
    // Written: readable before the sync, as from the page cache.
    expect(g.lastIndex()).toBe(7);
    expect(s.unsyncedTransactions).toBe(2);

    const r = s.crash();
    const g2 = r.group('g');
    expect(g2.lastIndex()).toBe(3);
    expect(g2.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 1 });
    expect(r.unsyncedTransactions).toBe(0);
  });

  it('auto mode: a transaction run with { sync: false } waits for the next synced one', () => {
    const s = new MemoryStorage();
    const g = s.group('g');
    g.append(run(1, 1, 1));
    s.transaction(() => g.append(run(2, 3, 1)), { sync: false });
    expect(s.unsyncedTransactions).toBe(1);
    expect(s.crash().group('g').lastIndex()).toBe(1);

    const t = new MemoryStorage();
    const h = t.group('g');
    t.transaction(() => h.append(run(1, 3, 1)), { sync: false });
    t.transaction(() => h.setHardState({ term: 1, vote: '', commit: 3 }));
    expect(t.unsyncedTransactions).toBe(0);
    expect(t.crash().group('g').lastIndex()).toBe(3);
  });

  it('crash({keepUnsynced}) keeps the oldest unsynced transactions in order', () => {
    const s = new MemoryStorage({ sync: 'manual' });
    const g = s.group('g');
    s.sync();
    g.append(run(1, 2, 1));
    g.append(run(3, 4, 1));
    g.append(run(3, 3, 2));
    expect(s.crash({ keepUnsynced: 2 }).group('g').lastIndex()).toBe(4);
  });

  it('an unsynced group creation or drop is lost in a crash', () => {
    const s = new MemoryStorage({ sync: 'manual' });
    s.group('kept').append(run(1, 1, 1));
    s.sync();
    s.group('new');
    s.dropGroup('kept');
    const r = s.crash();
    expect(r.groups()).toEqual(['kept']);
    expect(r.group('kept').lastIndex()).toBe(1);
  });

  it('sync() makes everything written so far durable', () => {
    const s = new MemoryStorage({ sync: 'manual' });
    const g = s.group('g');
    g.append(run(1, 5, 1));
    g.createSnapshot(
      {
        meta: { index: 3, term: 1, conf: { voters: ['a'], learners: [], votersOutgoing: [] } },
        data: new Uint8Array([7]),
      },
      0,
    );
    s.sync();
    const r = s.crash().group('g');
    expect(r.firstIndex()).toBe(4);
    expect(r.lastIndex()).toBe(5);
    expect([...r.snapshot().data]).toEqual([7]);
  });

  it('a rolled-back transaction leaves earlier unsynced transactions in place', () => {
    const s = new MemoryStorage({ sync: 'manual' });
    const g = s.group('g');
    g.append(run(1, 2, 1));
    expect(() =>
      s.transaction(() => {
        g.append(run(3, 4, 1));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(g.lastIndex()).toBe(2);
    expect(s.unsyncedTransactions).toBe(2);
    s.sync();
    expect(s.crash().group('g').lastIndex()).toBe(2);
  });

  it('the crashed instance and its handles refuse further use', () => {
    const s = new MemoryStorage();
    const g = s.group('g');
    s.crash();
    expect(() => g.append(run(1, 1, 1))).toThrow(StorageClosedError);
    expect(() => s.transaction(() => 1)).toThrow(StorageClosedError);
  });
});
