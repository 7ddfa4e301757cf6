import type Database from 'better-sqlite3';

/**
 * The partition tables of the broker database (the Raft tables, prefixed `raft_`, belong to
 * @myqueue/raft's SqliteStorage and live in the same file so one transaction covers both).
 *
 * - `mq_partitions`: one row per hosted replica: where its state machine stands.
 * - `mq_batches`: messages, one row per produced batch keyed by its base offset (a batch of 1000 is one
 *   insert); `data` is the batch's records as JSON, exactly as replicated in the Raft entry.
 * - `mq_positions`: consumer positions (replicated: changed only by applied Raft entries).
 * - `mq_producers`: idempotent-producer windows (the last batches of each producer), replicated too.
 * - `mq_brokers`: addresses of the brokers this one has heard of (HTTP url and Raft peer address).
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS mq_partitions (
     grp TEXT PRIMARY KEY,
     topic TEXT NOT NULL,
     partition INTEGER NOT NULL,
     applied_index INTEGER NOT NULL DEFAULT 0,
     next_offset INTEGER NOT NULL DEFAULT 0,
     log_start_offset INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS mq_batches (
     grp TEXT NOT NULL,
     base_offset INTEGER NOT NULL,
     count INTEGER NOT NULL,
     timestamp INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (grp, base_offset)
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS mq_positions (
     grp TEXT NOT NULL,
     consumer_id INTEGER NOT NULL,
     position INTEGER NOT NULL,
     PRIMARY KEY (grp, consumer_id)
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS mq_producers (
     grp TEXT NOT NULL,
     producer_id INTEGER NOT NULL,
     window TEXT NOT NULL,
     PRIMARY KEY (grp, producer_id)
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS mq_brokers (
     id TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     peer TEXT NOT NULL
   )`,
];

/**
 * Creates the tables when missing. Uses no `user_version` (the Raft storage in the same file may); a
 * later incompatible change adds an `mq_meta` version row.
 */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    for (const sql of MIGRATIONS) db.exec(sql);
  })();
}
