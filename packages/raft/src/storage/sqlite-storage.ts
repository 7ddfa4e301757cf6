/**
 * RaftStorage on SQLite (better-sqlite3): WAL journal, synchronous=FULL, so a committed transaction is on
 * disk when `transaction()` returns and one fsync serves every group written in it (group commit).
 *
 * Tables (all prefixed `raft_` so they can share a database file with the broker's own tables):
 *   raft_meta(key, value)                   schema version
 *   raft_groups(id, name, term, vote, commit_index, compact_index, compact_term)
 *                                           hard state and log bounds of each group
 *   raft_entries(group_id, idx, term, type, data)   the log, one BLOB per entry, keyed by (group, index)
 *   raft_snapshots(group_id, idx, term, conf, data) the latest snapshot of each group
 *
 * Each write is atomic on its own (truncate+append, snapshot+compaction, drop run in a savepoint), and
 * `transaction()` nests: called inside another transaction (the broker's, or our own), it becomes a
 * savepoint of it. The bounds and hard state of every open group are cached in memory; a rolled-back
 * transaction reloads the groups it touched, and groups written inside a caller's transaction are
 * reloaded once that transaction ends (committed or not), so the cache never drifts from the file.
 */
import Database from 'better-sqlite3';
import type { GroupStorage, RaftStorage, TransactionOptions } from '../storage.js';
import type { ConfState, Entry, EntryType, GroupId, HardState, Snapshot, SnapshotMeta } from '../types.js';
import { StorageClosedError } from './errors.js';
import {
  checkAppend,
  checkApplySnapshot,
  checkCreateSnapshot,
  checkRange,
  checkTermIndex,
  compactTarget,
  EMPTY_SNAPSHOT,
  entrySize,
} from './log-util.js';

export interface SqliteStorageOptions {
  /**
   * SQLite `synchronous` setting for the connection. Default 'full': every commit is fsynced, which is what
   * makes an acknowledged entry survive power loss. Lower it only in tests and benchmarks.
   */
  readonly synchronous?: 'full' | 'normal' | 'off';
  /**
   * Bytes (counted with entrySize) of each group's most recent entries kept in memory, so the reads
   * that follow an append (applying committed entries, sending them to followers) do not go back to
   * SQLite. Default 1 MiB per group; 0 disables.
   */
  readonly tailCacheBytes?: number;
}

export const DEFAULT_TAIL_CACHE_BYTES = 1 << 20;

const SCHEMA_VERSION = '1';
/** Rows per multi-row INSERT when appending (SQLite's default limit is 32766 bound parameters). */
const INSERT_BATCH = 64;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS raft_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS raft_groups (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  term INTEGER NOT NULL DEFAULT 0,
  vote TEXT NOT NULL DEFAULT '',
  commit_index INTEGER NOT NULL DEFAULT 0,
  compact_index INTEGER NOT NULL DEFAULT 0,
  compact_term INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS raft_entries (
  group_id INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  term INTEGER NOT NULL,
  type INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (group_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS raft_snapshots (
  group_id INTEGER PRIMARY KEY,
  idx INTEGER NOT NULL,
  term INTEGER NOT NULL,
  conf TEXT NOT NULL,
  data BLOB NOT NULL
);
`;

/** The cached state of one open group; `dropped` makes stale handles fail loudly. */
interface GroupMeta {
  readonly id: number;
  readonly name: GroupId;
  hardState: HardState;
  compactIndex: number;
  compactTerm: number;
  lastIndex: number;
  lastTerm: number;
  snapshotMeta: SnapshotMeta;
  dropped: boolean;
  /** The newest entries, contiguous and ending at lastIndex (or empty); tailBytes is their entrySize sum. */
  tail: Entry[];
  tailBytes: number;
}

/** Drops cached entries at or after `index` (a truncation). */
function cutTailFrom(m: GroupMeta, index: number): void {
  if (m.tail.length === 0 || index > m.tail[m.tail.length - 1].index) return;
  for (const e of m.tail.splice(Math.max(0, index - m.tail[0].index))) m.tailBytes -= entrySize(e);
}

/** Drops cached entries up to and including `index` (a compaction). */
function cutTailTo(m: GroupMeta, index: number): void {
  if (m.tail.length === 0 || m.tail[0].index > index) return;
  for (const e of m.tail.splice(0, index - m.tail[0].index + 1)) m.tailBytes -= entrySize(e);
}

/** Appends entries[from..] to the cache (already cut at their first index) and trims it to `cap` bytes. */
function extendTail(m: GroupMeta, entries: readonly Entry[], from: number, cap: number): void {
  if (cap === 0) return;
  if (m.tail.length > 0 && m.tail[m.tail.length - 1].index !== entries[from].index - 1) {
    m.tail = [];
    m.tailBytes = 0;
  }
  for (let i = from; i < entries.length; i++) {
    m.tail.push(entries[i]);
    m.tailBytes += entrySize(entries[i]);
  }
  let drop = 0;
  let bytes = m.tailBytes;
  while (bytes > cap && drop < m.tail.length) bytes -= entrySize(m.tail[drop++]);
  if (drop > 0) cutTailTo(m, m.tail[drop - 1].index);
}

type Row = [number, number, EntryType, Uint8Array];

function prepareStatements(db: Database.Database) {
  const insertRows = (n: number) =>
    db.prepare<unknown[]>(
      `INSERT INTO raft_entries (group_id, idx, term, type, data) VALUES ${Array(n).fill('(?, ?, ?, ?, ?)').join(', ')}`,
    );
  return {
    insertGroup: db.prepare<[string]>('INSERT OR IGNORE INTO raft_groups (name) VALUES (?)'),
    selectGroup: db.prepare<
      [string],
      { id: number; term: number; vote: string; commit_index: number; compact_index: number; compact_term: number }
    >('SELECT id, term, vote, commit_index, compact_index, compact_term FROM raft_groups WHERE name = ?'),
    listGroups: db.prepare<[], { name: string }>('SELECT name FROM raft_groups ORDER BY id'),
    lastEntry: db
      .prepare<[number], [number, number]>(
        'SELECT idx, term FROM raft_entries WHERE group_id = ? ORDER BY idx DESC LIMIT 1',
      )
      .raw(),
    setHardState: db.prepare<[number, string, number, number]>(
      'UPDATE raft_groups SET term = ?, vote = ?, commit_index = ? WHERE id = ?',
    ),
    setCompact: db.prepare<[number, number, number]>(
      'UPDATE raft_groups SET compact_index = ?, compact_term = ? WHERE id = ?',
    ),
    term: db.prepare<[number, number], number>('SELECT term FROM raft_entries WHERE group_id = ? AND idx = ?').pluck(),
    entries: db
      .prepare<[number, number, number], Row>(
        'SELECT idx, term, type, data FROM raft_entries WHERE group_id = ? AND idx >= ? AND idx < ? ORDER BY idx',
      )
      .raw(),
    insertOne: insertRows(1),
    insertBatch: insertRows(INSERT_BATCH),
    truncateFrom: db.prepare<[number, number]>('DELETE FROM raft_entries WHERE group_id = ? AND idx >= ?'),
    compactTo: db.prepare<[number, number]>('DELETE FROM raft_entries WHERE group_id = ? AND idx <= ?'),
    deleteEntries: db.prepare<[number]>('DELETE FROM raft_entries WHERE group_id = ?'),
    snapshotMeta: db.prepare<[number], { idx: number; term: number; conf: string }>(
      'SELECT idx, term, conf FROM raft_snapshots WHERE group_id = ?',
    ),
    snapshotData: db.prepare<[number], Uint8Array>('SELECT data FROM raft_snapshots WHERE group_id = ?').pluck(),
    putSnapshot: db.prepare<[number, number, number, string, Uint8Array]>(
      'INSERT INTO raft_snapshots (group_id, idx, term, conf, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET idx = excluded.idx, term = excluded.term, conf = excluded.conf, data = excluded.data',
    ),
    deleteSnapshot: db.prepare<[number]>('DELETE FROM raft_snapshots WHERE group_id = ?'),
    deleteGroup: db.prepare<[number]>('DELETE FROM raft_groups WHERE id = ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * RaftStorage on a SQLite file, or on a Database handle the caller owns (then close() leaves it open).
 *
 *   const storage = new SqliteStorage('/var/lib/myqueue/b1.db');
 *   storage.transaction(() => { g.setHardState(hs); g.append(entries); });   // one fsync
 */
export class SqliteStorage implements RaftStorage {
  readonly #db: Database.Database;
  readonly #owned: boolean;
  readonly #stmt: Statements;
  readonly #txn: Database.Transaction<(fn: () => unknown) => unknown>;
  readonly #groups = new Map<GroupId, GroupMeta>();
  readonly #handles = new Map<GroupId, SqliteGroupStorage>();
  /** Groups written in the current transaction (reloaded from the file if it rolls back). */
  readonly #touched = new Set<GroupMeta>();
  /** Groups written inside a caller's transaction, reloaded once it is over. */
  readonly #unverified = new Set<GroupMeta>();
  readonly #synchronous: 'full' | 'normal' | 'off';
  readonly #tailCap: number;
  #depth = 0;
  #closed = false;

  constructor(database: string | Database.Database, options: SqliteStorageOptions = {}) {
    this.#owned = typeof database === 'string';
    this.#db = typeof database === 'string' ? new Database(database) : database;
    try {
      if (
        this.#db.pragma('journal_mode', { simple: true }) !== 'wal' &&
        this.#db.pragma('journal_mode = WAL', { simple: true }) !== 'wal'
      ) {
        throw new Error('raft storage needs a WAL journal (an in-memory database cannot have one)');
      }
      this.#synchronous = options.synchronous ?? 'full';
      this.#tailCap = options.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BYTES;
      this.#db.pragma(`synchronous = ${this.#synchronous.toUpperCase()}`);
      this.#db.exec(SCHEMA);
      this.#db.prepare("INSERT OR IGNORE INTO raft_meta (key, value) VALUES ('schema_version', ?)").run(SCHEMA_VERSION);
      const version = this.#db
        .prepare<[], string>("SELECT value FROM raft_meta WHERE key = 'schema_version'")
        .pluck()
        .get();
      if (version !== SCHEMA_VERSION)
        throw new Error(`raft storage schema version ${version} is not supported (expected ${SCHEMA_VERSION})`);
      this.#stmt = prepareStatements(this.#db);
    } catch (error) {
      if (this.#owned) this.#db.close();
      throw error;
    }
    this.#txn = this.#db.transaction((fn: () => unknown) => fn());
  }

  /** The database handle (the broker writes its partition tables through it, in the same transactions). */
  get database(): Database.Database {
    return this.#db;
  }

  group(group: GroupId): GroupStorage {
    this.#check();
    let handle = this.#handles.get(group);
    if (handle && !this.#groups.get(group)?.dropped) return handle;
    this.#stmt.insertGroup.run(group);
    const meta = this.#load(group);
    this.#groups.set(group, meta);
    this.#touch(meta);
    handle = new SqliteGroupStorage(
      group,
      () => this.#meta(group),
      this.#stmt,
      (fn) => this.transaction(fn),
      (m) => this.#touch(m),
      this.#tailCap,
    );
    this.#handles.set(group, handle);
    return handle;
  }

  groups(): GroupId[] {
    this.#check();
    return this.#stmt.listGroups.all().map((row) => row.name);
  }

  dropGroup(group: GroupId): void {
    this.#check();
    const row = this.#stmt.selectGroup.get(group);
    if (!row) return;
    this.transaction(() => {
      this.#stmt.deleteEntries.run(row.id);
      this.#stmt.deleteSnapshot.run(row.id);
      this.#stmt.deleteGroup.run(row.id);
    });
    const meta = this.#groups.get(group);
    if (meta) meta.dropped = true;
    this.#groups.delete(group);
    this.#handles.delete(group);
  }

  transaction<T>(fn: () => T, options: TransactionOptions = {}): T {
    this.#check();
    const foreign = this.#depth === 0 && this.#db.inTransaction;
    // An unsynced commit: NORMAL in WAL mode appends the commit to the WAL without fsync; the next FULL
    // commit's fsync covers it, and WAL recovery keeps commits in order.
    const relax = options.sync === false && this.#depth === 0 && !foreign && this.#synchronous === 'full';
    if (relax) this.#db.pragma('synchronous = NORMAL');
    this.#depth++;
    try {
      return this.#txn.immediate(fn) as T;
    } catch (error) {
      // The transaction (or savepoint) was rolled back: the cache of what it touched is wrong.
      this.#reload(this.#touched);
      throw error;
    } finally {
      if (relax) this.#db.pragma('synchronous = FULL');
      this.#depth--;
      if (this.#depth === 0) {
        if (foreign) for (const meta of this.#touched) this.#unverified.add(meta);
        this.#touched.clear();
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const meta of this.#groups.values()) meta.dropped = true;
    if (this.#owned) this.#db.close();
  }

  #check(): void {
    if (this.#closed) throw new StorageClosedError();
    if (this.#unverified.size > 0 && !this.#db.inTransaction) {
      this.#reload(this.#unverified);
      this.#unverified.clear();
    }
  }

  #meta(group: GroupId): GroupMeta {
    this.#check();
    const meta = this.#groups.get(group);
    if (!meta || meta.dropped) throw new Error(`raft group ${group} was dropped from storage`);
    return meta;
  }

  #touch(meta: GroupMeta): void {
    if (this.#depth > 0) this.#touched.add(meta);
    else if (this.#db.inTransaction) this.#unverified.add(meta);
  }

  #reload(metas: Iterable<GroupMeta>): void {
    for (const meta of [...metas]) {
      if (meta.dropped) continue;
      const fresh = this.#stmt.selectGroup.get(meta.name) ? this.#load(meta.name) : undefined;
      if (!fresh) {
        // The group's creation was rolled back: forget it, a later group() recreates it.
        meta.dropped = true;
        this.#groups.delete(meta.name);
        this.#handles.delete(meta.name);
        continue;
      }
      Object.assign(meta, { ...fresh, id: meta.id });
    }
  }

  #load(name: GroupId): GroupMeta {
    const row = this.#stmt.selectGroup.get(name)!;
    const snap = this.#stmt.snapshotMeta.get(row.id);
    const last = this.#stmt.lastEntry.get(row.id);
    return {
      id: row.id,
      name,
      hardState: { term: row.term, vote: row.vote, commit: row.commit_index },
      compactIndex: row.compact_index,
      compactTerm: row.compact_term,
      lastIndex: last ? last[0] : row.compact_index,
      lastTerm: last ? last[1] : row.compact_term,
      snapshotMeta: snap
        ? { index: snap.idx, term: snap.term, conf: JSON.parse(snap.conf) as ConfState }
        : EMPTY_SNAPSHOT.meta,
      dropped: false,
      tail: [],
      tailBytes: 0,
    };
  }
}

class SqliteGroupStorage implements GroupStorage {
  readonly group: GroupId;
  readonly #meta: () => GroupMeta;
  readonly #stmt: Statements;
  readonly #transaction: <T>(fn: () => T) => T;
  readonly #touch: (meta: GroupMeta) => void;
  readonly #tailCap: number;

  constructor(
    group: GroupId,
    meta: () => GroupMeta,
    stmt: Statements,
    transaction: <T>(fn: () => T) => T,
    touch: (meta: GroupMeta) => void,
    tailCap: number,
  ) {
    this.group = group;
    this.#meta = meta;
    this.#stmt = stmt;
    this.#transaction = transaction;
    this.#touch = touch;
    this.#tailCap = tailCap;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    const m = this.#meta();
    return { hardState: m.hardState, confState: m.snapshotMeta.conf };
  }

  firstIndex(): number {
    return this.#meta().compactIndex + 1;
  }

  lastIndex(): number {
    return this.#meta().lastIndex;
  }

  term(index: number): number {
    const m = this.#meta();
    checkTermIndex(m, index);
    if (index === m.lastIndex) return m.lastTerm;
    if (index === m.compactIndex) return m.compactTerm;
    if (m.tail.length > 0 && index >= m.tail[0].index) return m.tail[index - m.tail[0].index].term;
    return this.#stmt.term.get(m.id, index)!;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const m = this.#meta();
    checkRange(m, lo, hi);
    const out: Entry[] = [];
    if (lo === hi) return out;
    let bytes = 0;
    if (m.tail.length > 0 && lo >= m.tail[0].index) {
      const start = m.tail[0].index;
      for (let i = lo; i < hi; i++) {
        const entry = m.tail[i - start];
        bytes += entrySize(entry);
        if (out.length > 0 && bytes > maxBytes) break;
        out.push(entry);
      }
      return out;
    }
    for (const [index, term, type, data] of this.#stmt.entries.iterate(m.id, lo, hi)) {
      const entry: Entry = { index, term, type, data };
      bytes += entrySize(entry);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  snapshot(): Snapshot {
    const m = this.#meta();
    const data = this.#stmt.snapshotData.get(m.id);
    return data === undefined ? EMPTY_SNAPSHOT : { meta: m.snapshotMeta, data };
  }

  setHardState(hardState: HardState): void {
    const m = this.#meta();
    this.#stmt.setHardState.run(hardState.term, hardState.vote, hardState.commit, m.id);
    m.hardState = { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
    this.#touch(m);
  }

  append(entries: readonly Entry[]): void {
    const m = this.#meta();
    const skip = checkAppend(m, entries);
    if (skip === entries.length) return;
    const first = entries[skip].index;
    this.#transaction(() => {
      this.#touch(m);
      if (first <= m.lastIndex) this.#stmt.truncateFrom.run(m.id, first);
      let i = skip;
      const params: unknown[] = [];
      for (; i + INSERT_BATCH <= entries.length; i += INSERT_BATCH) {
        params.length = 0;
        for (let j = i; j < i + INSERT_BATCH; j++) {
          const e = entries[j];
          params.push(m.id, e.index, e.term, e.type, e.data);
        }
        this.#stmt.insertBatch.run(params);
      }
      for (; i < entries.length; i++) {
        const e = entries[i];
        this.#stmt.insertOne.run(m.id, e.index, e.term, e.type, e.data);
      }
      const last = entries[entries.length - 1];
      m.lastIndex = last.index;
      m.lastTerm = last.term;
      cutTailFrom(m, first);
      extendTail(m, entries, skip, this.#tailCap);
    });
  }

  applySnapshot(snapshot: Snapshot): void {
    const m = this.#meta();
    checkApplySnapshot(m.snapshotMeta.index, snapshot);
    const { index, term, conf } = snapshot.meta;
    this.#transaction(() => {
      this.#touch(m);
      this.#stmt.putSnapshot.run(m.id, index, term, JSON.stringify(conf), snapshot.data);
      this.#stmt.deleteEntries.run(m.id);
      this.#stmt.setCompact.run(index, term, m.id);
      m.snapshotMeta = snapshot.meta;
      m.compactIndex = m.lastIndex = index;
      m.compactTerm = m.lastTerm = term;
      m.tail = [];
      m.tailBytes = 0;
    });
  }

  createSnapshot(snapshot: Snapshot, retain: number): void {
    const m = this.#meta();
    checkCreateSnapshot(m, m.snapshotMeta.index, snapshot, retain);
    const term = this.term(snapshot.meta.index);
    if (term !== snapshot.meta.term) {
      throw new RangeError(
        `snapshot at index ${snapshot.meta.index} has term ${snapshot.meta.term} but the log has ${term}`,
      );
    }
    const target = compactTarget(m, snapshot.meta.index, retain);
    const targetTerm = target > m.compactIndex ? this.term(target) : m.compactTerm;
    this.#transaction(() => {
      this.#touch(m);
      this.#stmt.putSnapshot.run(
        m.id,
        snapshot.meta.index,
        snapshot.meta.term,
        JSON.stringify(snapshot.meta.conf),
        snapshot.data,
      );
      m.snapshotMeta = snapshot.meta;
      if (target > m.compactIndex) {
        this.#stmt.compactTo.run(m.id, target);
        this.#stmt.setCompact.run(target, targetTerm, m.id);
        m.compactIndex = target;
        m.compactTerm = targetTerm;
        cutTailTo(m, target);
      }
    });
  }
}
