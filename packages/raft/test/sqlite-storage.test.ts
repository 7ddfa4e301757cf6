import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/seeded-random.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
import type { GroupStorage, RaftStorage } from '../src/storage.js';
import { entry, run, storageConformance } from './storage-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'raft-sqlite-'));
let n = 0;
const files = new Map<RaftStorage, string>();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const [label, tailCacheBytes] of [
  ['default tail cache', undefined],
  ['no tail cache', 0],
  ['tiny tail cache', 100],
] as const) {
  storageConformance(`SqliteStorage (${label})`, {
    create: () => {
      const file = join(dir, `c${n++}.db`);
      const s = new SqliteStorage(file, { tailCacheBytes });
      files.set(s, file);
      return s;
    },
    restart: (s) => {
      const file = files.get(s)!;
      s.close();
      const r = new SqliteStorage(file, { tailCacheBytes });
      files.set(r, file);
      return r;
    },
  });
}

describe('SqliteStorage', () => {
  it('uses WAL and synchronous=FULL, and only raft_ tables', () => {
    const s = new SqliteStorage(join(dir, 'pragma.db'));
    expect(s.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.database.pragma('synchronous', { simple: true })).toBe(2);
    const tables = s.database.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables.every((t) => t.startsWith('raft_'))).toBe(true);
    s.close();
  });

  it('commits { sync: false } transactions with synchronous=NORMAL and goes back to FULL', () => {
    const s = new SqliteStorage(join(dir, 'relax.db'));
    const g = s.group('g');
    const seen: unknown[] = [];
    s.transaction(
      () => {
        g.append(run(1, 2, 1));
        seen.push(s.database.pragma('synchronous', { simple: true }));
      },
      { sync: false },
    );
    s.transaction(
      () => {
        // Nested inside our own transaction: the outer one decides.
        s.transaction(() => g.append(run(3, 3, 1)), { sync: false });
        seen.push(s.database.pragma('synchronous', { simple: true }));
      },
      { sync: true },
    );
    expect(seen).toEqual([1, 2]); // NORMAL, then FULL
    expect(s.database.pragma('synchronous', { simple: true })).toBe(2);
    expect(() =>
      s.transaction(
        () => {
          throw new Error('x');
        },
        { sync: false },
      ),
    ).toThrow('x');
    expect(s.database.pragma('synchronous', { simple: true })).toBe(2);
    expect(g.lastIndex()).toBe(3);
    s.close();
  });

  it('refuses an in-memory database (no WAL, so no durability)', () => {
    expect(() => new SqliteStorage(':memory:')).toThrow(/WAL/);
  });

  it('shares a caller-owned handle: close() leaves it open, writes join the caller transaction', () => {
    const db = new Database(join(dir, 'shared.db'));
    db.exec('CREATE TABLE broker_messages (id INTEGER PRIMARY KEY, body TEXT)');
    const s = new SqliteStorage(db);
    const g = s.group('p0');
    const insert = db.prepare('INSERT INTO broker_messages (body) VALUES (?)');
    s.transaction(() => {
      g.append(run(1, 2, 1));
      insert.run('m1');
    });
    // The broker's own transaction around ours, rolled back: both its rows and our entries go.
    expect(() =>
      db.transaction(() => {
        insert.run('m2');
        s.transaction(() => g.append(run(3, 5, 1)));
        g.setHardState({ term: 9, vote: 'x', commit: 4 });
        expect(g.lastIndex()).toBe(5);
        throw new Error('broker failed');
      })(),
    ).toThrow('broker failed');
    expect(db.prepare('SELECT count(*) FROM broker_messages').pluck().get()).toBe(1);
    expect(g.lastIndex()).toBe(2);
    expect(g.initialState().hardState.term).toBe(0);
    // ...and committed: both stay.
    db.transaction(() => {
      insert.run('m3');
      s.transaction(() => g.append(run(3, 3, 2)));
    })();
    expect(g.lastIndex()).toBe(3);
    s.close();
    expect(db.open).toBe(true);
    const r = new SqliteStorage(db);
    expect(r.group('p0').term(3)).toBe(2);
    db.close();
  });

  it('agrees with MemoryStorage over random operation sequences (seeded)', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = seededRandom(seed);
      const file = join(dir, `diff${seed}.db`);
      // Seeds alternate between no cache, a cache of a few entries and the default (everything cached).
      const sqlOptions = { synchronous: 'off' as const, tailCacheBytes: [0, 150, undefined][seed % 3] };
      let sql: RaftStorage = new SqliteStorage(file, sqlOptions);
      let mem: RaftStorage = new MemoryStorage();
      const groupNames = ['a', 'b'];
      let term = 1;
      for (let step = 0; step < 150; step++) {
        const name = groupNames[Math.floor(random() * groupNames.length)];
        const gs = sql.group(name);
        const gm = mem.group(name);
        const op = random();
        const outcome = (fn: (g: GroupStorage) => unknown) => [attempt(() => fn(gs)), attempt(() => fn(gm))];
        let results: unknown[];
        if (op < 0.45) {
          if (random() < 0.2) term++;
          const first =
            Math.max(gm.firstIndex() - 1, 1) + Math.floor(random() * (gm.lastIndex() - gm.firstIndex() + 3));
          const count = 1 + Math.floor(random() * 80);
          const batch = Array.from({ length: count }, (_, i) => entry(first + i, term, Math.floor(random() * 20)));
          results = outcome((g) => g.append(batch));
        } else if (op < 0.55) {
          const index = gm.firstIndex() - 1 + Math.floor(random() * (gm.lastIndex() - gm.firstIndex() + 3));
          const retain = Math.floor(random() * 10);
          results = outcome((g) =>
            g.createSnapshot(
              {
                meta: { index, term: safeTerm(gm, index), conf: { voters: [name], learners: [], votersOutgoing: [] } },
                data: Uint8Array.of(step),
              },
              retain,
            ),
          );
        } else if (op < 0.58) {
          const index = gm.lastIndex() + Math.floor(random() * 20) - 5;
          results = outcome((g) =>
            g.applySnapshot({
              meta: { index, term, conf: { voters: ['z'], learners: [], votersOutgoing: [] } },
              data: Uint8Array.of(1, step),
            }),
          );
        } else if (op < 0.65) {
          const hs = { term, vote: random() < 0.5 ? '' : 'v', commit: step };
          results = outcome((g) => g.setHardState(hs));
        } else if (op < 0.67) {
          results = [attempt(() => sql.dropGroup(name)), attempt(() => mem.dropGroup(name))];
        } else if (op < 0.7) {
          results = [
            attempt(() => sql.transaction(() => failingWrites(sql.group(name)))),
            attempt(() => mem.transaction(() => failingWrites(mem.group(name)))),
          ];
        } else if (op < 0.72) {
          sql.close();
          sql = new SqliteStorage(file, sqlOptions);
          mem = (mem as MemoryStorage).crash();
          results = [];
        } else {
          const lo = gm.firstIndex() - 1 + Math.floor(random() * (gm.lastIndex() - gm.firstIndex() + 3));
          const hi = lo + Math.floor(random() * 30) - 2;
          const maxBytes = Math.floor(random() * 200);
          results = outcome((g) => [
            g.entries(lo, hi, maxBytes).map((e) => [e.index, e.term, e.type, [...e.data]]),
            g.term(lo),
          ]);
        }
        expect(results[0], `seed ${seed} step ${step}`).toEqual(results[1]);
        const a = sql.group(name);
        const b = mem.group(name);
        expect(describeGroup(a), `seed ${seed} step ${step}`).toEqual(describeGroup(b));
      }
      expect(sql.groups().sort()).toEqual(mem.groups().sort());
      sql.close();
    }
  }, 60_000);
});

function failingWrites(g: GroupStorage): never {
  g.append(run(g.lastIndex() + 1, g.lastIndex() + 3, 99));
  g.setHardState({ term: 99, vote: 'q', commit: 0 });
  throw new Error('rolled back');
}

function safeTerm(g: GroupStorage, index: number): number {
  try {
    return g.term(index);
  } catch {
    return 1;
  }
}

function attempt(fn: () => unknown): unknown {
  try {
    return { ok: fn() ?? null };
  } catch (error) {
    return { error: (error as Error).name };
  }
}

function describeGroup(g: GroupStorage): unknown {
  const first = g.firstIndex();
  const last = g.lastIndex();
  const snap = g.snapshot();
  return {
    first,
    last,
    state: g.initialState(),
    boundaryTerm: g.term(first - 1),
    log: g.entries(first, last + 1, Infinity).map((e) => [e.index, e.term, e.type, [...e.data]]),
    snapshot: [snap.meta, [...snap.data]],
  };
}
