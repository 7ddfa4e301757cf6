#!/usr/bin/env node
/**
 * A standalone embedded metadata database: PGlite behind a Postgres wire socket, in its own process, so the
 * local cluster's managers can fail over while the database lives on (a manager embedding PGlite itself
 * takes the database down with it). Env: MQ_PGLITE_DIR (default: in memory), MQ_PGLITE_HOST (127.0.0.1),
 * MQ_PGLITE_PORT (0: a free port). Prints one JSON line `{"msg":"pglite ready","url":...}` when serving.
 */
import { startEmbeddedDatabase } from './db/embedded.js';

const port = Number(process.env.MQ_PGLITE_PORT ?? '0');
if (!Number.isInteger(port) || port < 0) {
  console.error('MQ_PGLITE_PORT must be a port number');
  process.exit(2);
}
const db = await startEmbeddedDatabase({ dataDir: process.env.MQ_PGLITE_DIR || undefined, host: process.env.MQ_PGLITE_HOST ?? '127.0.0.1', port });
console.log(JSON.stringify({ msg: 'pglite ready', url: db.url }));
const stop = () => {
  db.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
