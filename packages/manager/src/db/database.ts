import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

const INT8_OID = 20;

/** bigint columns as numbers: ids and ms timestamps stay far below 2^53. */
const parseInt8 = (v: string): number => Number(v);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID ? parseInt8 : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)) as typeof pg.types.getTypeParser,
};

export interface MetadataDb {
  readonly db: Kysely<Database>;
  readonly pool: pg.Pool;
  /** A fresh dedicated connection (not from the pool), e.g. to hold the primary's advisory lock. */
  connect(): Promise<pg.Client>;
  close(): Promise<void>;
}

/** Opens the metadata database at `url` (Postgres, or an embedded PGlite behind its wire socket). */
export function openDatabase(url: string, options: { max?: number; onError?: (err: Error) => void } = {}): MetadataDb {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection (database restart) must not crash the process; the next query reconnects.
  pool.on('error', (err) => options.onError?.(err));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    async connect() {
      const client = new pg.Client({ connectionString: url, types, connectionTimeoutMillis: 5000 });
      client.on('error', (err) => options.onError?.(err));
      await client.connect();
      return client;
    },
    async close() {
      await db.destroy();
    },
  };
}
