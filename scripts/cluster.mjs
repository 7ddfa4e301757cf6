#!/usr/bin/env node
// `npm run cluster`: a local myqueue cluster as separate processes on 127.0.0.1 -- a manager primary
// (default :5000), read-only manager replicas (:5001), three brokers -- on embedded PGlite shared with the
// replicas through a Postgres wire socket (or DATABASE_URL). Prints where everything is and stops cleanly
// on Ctrl-C. Run `node scripts/cluster.mjs --help` for the flags; each has an environment variable too.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const HELP = `usage: npm run cluster -- [options]

  --port N            manager primary HTTP port          (MQ_CLUSTER_PORT, default 5000)
  --replicas N        read-only manager replicas, on the ports after --port
                                                         (MQ_CLUSTER_REPLICAS, default 1)
  --brokers N         brokers                            (MQ_CLUSTER_BROKERS, default 3)
  --broker-port N     first broker's HTTP port; Raft peer links on +100
                                                         (MQ_CLUSTER_BROKER_PORT, default 5100)
  --pglite-port N     embedded PGlite's Postgres socket  (MQ_CLUSTER_PGLITE_PORT, default --port + 99)
  --data-dir DIR      data and logs, kept on exit        (MQ_CLUSTER_DATA_DIR, default a temp dir removed on exit)
  --database-url URL  use this Postgres instead of PGlite (DATABASE_URL)
  --token TOKEN       cluster token                      (MQ_CLUSTER_TOKEN, default generated)
  --log-level LEVEL   log level of every process         (LOG_LEVEL, default info)
`;

function fail(message) {
  console.error(`myqueue cluster: ${message}`);
  process.exit(2);
}

function int(name, value, min, max) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`${name} must be an integer in [${min}, ${max}], got '${value}'`);
  return n;
}

/** Resolves when nothing listens on 127.0.0.1:port, so a busy port fails fast with a clear message. */
function checkFree(port) {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => fail(`port ${port} is in use (choose others with --port/--broker-port, see --help)`));
    s.listen(port, '127.0.0.1', () => s.close(() => ok()));
  });
}

const { values: flags } = parseArgs({
  options: {
    port: { type: 'string' },
    replicas: { type: 'string' },
    brokers: { type: 'string' },
    'broker-port': { type: 'string' },
    'pglite-port': { type: 'string' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    token: { type: 'string' },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}
const env = process.env;
const port = int('--port', flags.port ?? env.MQ_CLUSTER_PORT ?? 5000, 1, 65535);
const replicas = int('--replicas', flags.replicas ?? env.MQ_CLUSTER_REPLICAS ?? 1, 0, 9);
const brokers = int('--brokers', flags.brokers ?? env.MQ_CLUSTER_BROKERS ?? 3, 1, 20);
const brokerPort = int('--broker-port', flags['broker-port'] ?? env.MQ_CLUSTER_BROKER_PORT ?? 5100, 1, 65435);
const pglitePort = int('--pglite-port', flags['pglite-port'] ?? env.MQ_CLUSTER_PGLITE_PORT ?? port + 99, 1, 65535);
const databaseUrl = flags['database-url'] ?? (env.DATABASE_URL || undefined);
const token = flags.token ?? env.MQ_CLUSTER_TOKEN ?? randomBytes(24).toString('base64url');
const logLevel = flags['log-level'] ?? env.LOG_LEVEL ?? 'info';
const keptDir = flags['data-dir'] ?? env.MQ_CLUSTER_DATA_DIR;
const dir = keptDir ? resolve(keptDir) : mkdtempSync(join(tmpdir(), 'myqueue-cluster-'));

const managerPorts = Array.from({ length: 1 + replicas }, (_, i) => port + i);
const brokerPorts = Array.from({ length: brokers }, (_, i) => brokerPort + i);
const peerPorts = brokerPorts.map((p) => p + 100);
for (const p of [...managerPorts, ...brokerPorts, ...peerPorts, ...(databaseUrl ? [] : [pglitePort])])
  await checkFree(p);

const { startLocalCluster } = await import('../packages/local-cluster/dist/index.js');
console.log(`myqueue: starting ${1 + replicas} manager(s) and ${brokers} broker(s) in ${dir} ...`);
let cluster;
try {
  cluster = await startLocalCluster({
    brokers,
    managers: 1 + replicas,
    dir,
    keepDir: keptDir !== undefined,
    clusterToken: token,
    logLevel,
    databaseUrl,
    ports: { managers: managerPorts, brokers: brokerPorts, peers: peerPorts, pglite: pglitePort },
    startTimeoutMs: 120_000,
  });
} catch (err) {
  console.error(`myqueue cluster failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

const [primary, ...replicaUrls] = cluster.managerUrls;
const lines = [
  '',
  'myqueue cluster is running',
  `  manager primary   ${primary}   (logging-queue API, /v1/status, /metrics, /docs)`,
  ...replicaUrls.map((u) => `  manager replica   ${u}   (read-only; forwards writes to the primary)`),
  ...cluster.brokers.map((b) => `  broker ${b.id.padEnd(10)} ${b.url}   (Raft peer link ${b.peer})`),
  `  metadata          ${databaseUrl ? 'DATABASE_URL (Postgres)' : `embedded PGlite, ${cluster.databaseUrl}`}`,
  `  data dir          ${dir}${keptDir ? '' : ' (removed on exit; keep it with --data-dir)'}`,
  `  logs              ${join(dir, 'logs')}/<name>.log`,
  `  cluster token     ${token}`,
  '',
  'try it:',
  `  curl -s -X POST ${primary}/topics -H 'content-type: application/json' -d '{"topic_name":"demo"}'`,
  `  curl -s -X POST ${primary}/producer/register -H 'content-type: application/json' -d '{"topic":"demo"}'`,
  `  curl -s -X POST ${primary}/producer/produce -H 'content-type: application/json' -d '{"topic":"demo","producer_id":1,"message":"hello"}'`,
  `  curl -s -X POST ${primary}/consumer/register -H 'content-type: application/json' -d '{"topic":"demo"}'`,
  `  curl -s "${primary}/consumer/consume?topic=demo&consumer_id=1"`,
  `  curl -s ${primary}/v1/status`,
  '',
  'Ctrl-C stops everything.',
];
console.log(lines.join('\n'));

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\nmyqueue: ${signal}: stopping brokers, managers and the database ...`);
  try {
    await cluster.stop();
    console.log('myqueue: stopped');
    process.exit(0);
  } catch (err) {
    console.error(`myqueue: unclean stop: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
// Keep running until a signal: the children's handles alone do not hold the event loop reliably.
setInterval(() => undefined, 1 << 30);
