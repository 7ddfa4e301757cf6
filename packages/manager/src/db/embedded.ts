import { PGlite } from '@electric-sql/pglite';
import { PgliteWireServer } from './pglite-wire-server.js';

export interface EmbeddedDatabaseOptions {
  /** Data directory; undefined keeps everything in memory. */
  readonly dataDir?: string | undefined;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Connections the socket multiplexes onto PGlite's single session. Default 64. */
  readonly maxConnections?: number;
}

export interface EmbeddedDatabase {
  /** postgres://postgres@host:port/postgres: give it to replicas as DATABASE_URL. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts PGlite (Postgres compiled to WASM, in this process) behind a Postgres wire socket, so this manager
 * and its replicas talk to it with the ordinary pg driver. PGlite has a single session: every connection
 * shares it (statements and transactions are serialized by PgliteWireServer), which is why election uses a
 * lease there.
 */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions = {}): Promise<EmbeddedDatabase> {
  const pglite = await PGlite.create(options.dataDir);
  const host = options.host ?? '127.0.0.1';
  const server = new PgliteWireServer(pglite, { maxConnections: options.maxConnections ?? 64 });
  const port = await server.listen(host, options.port ?? 0);
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    async close() {
      await server.close();
      await pglite.close();
    },
  };
}
