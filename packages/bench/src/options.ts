/** Command-line options of `pnpm bench`, with their defaults (full run) and the `--quick` preset. */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  readonly quick: boolean;
  /** Which systems: 'myqueue', 'nats' (R3 and R1). */
  readonly systems: readonly ('myqueue' | 'nats')[];
  /** W1 seconds per run. */
  readonly produceSeconds: number;
  /** W3 rates (msg/s), seconds per round and rounds per rate (each on a new stream). */
  readonly rates: readonly number[];
  readonly latencySeconds: number;
  readonly latencyRounds: number;
  /** W4 rounds. */
  readonly failoverRounds: number;
  /** myqueue topic partitions, producer batch size / linger, and messages in flight per producer. */
  readonly partitions: number;
  readonly batchSize: number;
  readonly lingerMs: number;
  readonly maxInFlight: number;
  /** How the myqueue producer spreads keyless records: the client's default (sticky) or per record. */
  readonly partitioner: 'sticky' | 'round-robin';
  readonly window: number;
  /**
   * The manager's metadata database: a Postgres server url (the bench creates and drops a database on
   * it), 'auto' (MYQUEUE_TEST_POSTGRES or 127.0.0.1:5432 when it answers, else PGlite) or 'pglite'.
   */
  readonly metadata: string;
  /** Directory for broker CPU profiles (node --cpu-prof), or undefined. */
  readonly cpuProf: string | undefined;
  /** Markdown file to write the results section to, or undefined (never by --quick unless --docs). */
  readonly docs: string | undefined;
  readonly json: string | undefined;
  readonly progress: boolean;
}

export const USAGE = `pnpm bench [options]
  --quick                  about a minute: short runs, one failover round, NATS R3 only (no docs)
  --only myqueue|nats      run one system only
  --seconds N              W1 seconds per run (default 15; quick 3)
  --rates A,B              W3 rates in msg/s (default 5000,20000)
  --latency-seconds N      W3 seconds per round (default 10; quick 3)
  --latency-rounds N       W3 rounds per rate, each on a new stream, pooled (default 3; quick 1)
  --rounds N               W4 failover rounds (default 5; quick 1)
  --partitions N           myqueue topic partitions (default 3)
  --batch-size N           myqueue producer batch size (default 5000)
  --linger-ms N            myqueue producer linger (default 5)
  --max-in-flight N        myqueue batches in flight per partition (default 5, the client's default)
  --partitioner P          myqueue keyless records: sticky (the client's default) or round-robin
  --window N               myqueue messages in flight per producer (default 20000)
  --postgres URL|pglite    the manager's database (default: the local Postgres if it answers, as in
                           production; else the embedded PGlite, which costs the manager CPU)
  --cpu-prof DIR           write broker CPU profiles (node --cpu-prof) to DIR
  --docs FILE              write the results section to FILE (default docs/benchmarks.md; --no-docs: don't)
  --json FILE              also write the raw results as JSON
  --no-progress            no progress bar`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      seconds: { type: 'string' },
      rates: { type: 'string' },
      'latency-seconds': { type: 'string' },
      'latency-rounds': { type: 'string' },
      rounds: { type: 'string' },
      partitions: { type: 'string' },
      'batch-size': { type: 'string' },
      'linger-ms': { type: 'string' },
      'max-in-flight': { type: 'string' },
      partitioner: { type: 'string' },
      window: { type: 'string' },
      postgres: { type: 'string' },
      'cpu-prof': { type: 'string' },
      docs: { type: 'string' },
      'no-docs': { type: 'boolean', default: false },
      json: { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const num = (name: string, v: string | undefined, dflt: number, min = 0): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${v}`);
    return n;
  };
  const only = values.only;
  if (only !== undefined && only !== 'myqueue' && only !== 'nats') throw new Error('--only must be myqueue or nats');
  const partitioner = values.partitioner ?? 'sticky';
  if (partitioner !== 'sticky' && partitioner !== 'round-robin')
    throw new Error('--partitioner must be sticky or round-robin');
  const rates = (values.rates ?? '5000,20000').split(',').map((r) => num('rates', r, 0, 1));
  return {
    quick,
    systems: only ? [only] : ['myqueue', 'nats'],
    produceSeconds: Math.min(num('seconds', values.seconds, quick ? 3 : 15, 0.1), 300),
    rates,
    latencySeconds: Math.min(num('latency-seconds', values['latency-seconds'], quick ? 3 : 10, 0.1), 300),
    latencyRounds: Math.round(Math.min(num('latency-rounds', values['latency-rounds'], quick ? 1 : 3, 1), 10)),
    failoverRounds: Math.min(num('rounds', values.rounds, quick ? 1 : 5), 20),
    partitions: num('partitions', values.partitions, 3, 1),
    batchSize: num('batch-size', values['batch-size'], 5000, 1),
    lingerMs: num('linger-ms', values['linger-ms'], 5),
    maxInFlight: num('max-in-flight', values['max-in-flight'], 5, 1),
    partitioner,
    window: num('window', values.window, 20_000, 1),
    metadata: values.postgres ?? 'auto',
    cpuProf: values['cpu-prof'],
    docs: values['no-docs'] ? undefined : (values.docs ?? (quick ? undefined : 'docs/benchmarks.md')),
    json: values.json,
    progress: !values['no-progress'],
  };
}
