import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './schema.js';

export type Db = Database.Database;

/**
 * Opens the broker's single SQLite database: WAL journal with `synchronous=FULL`, so a committed
 * transaction survives power loss, and one fsync per transaction however many groups wrote in it.
 * `path` ":memory:" is accepted for tests.
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // Checkpoints are done by SQLite itself every ~4 MB of WAL; a busy timeout covers the rare tool that
  // opens the file alongside the broker (sqlite3 CLI while debugging).
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = OFF');
  migrate(db);
  return db;
}
