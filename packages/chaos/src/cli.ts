/**
 * The command line of `pnpm chaos`: the fault suite. `--quick` is the CI run (about 2 minutes); `--minutes N` soaks;
 * `--check DIR` re-checks a kept run. Exit 0 when no safety violation was found, 1 when one was, 2 on
 * bad usage or when the run itself broke.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { check, VIOLATION_KINDS, type CheckReport, type PartitionLogs } from './checker.js';
import { readHistory } from './history.js';
import { FAULTS, type FaultName } from './nemesis.js';
import { runChaos, type RunOptions } from './run.js';

const USAGE = `usage: pnpm chaos [--quick | --minutes N] [--brokers 3|5] [--partitions N] [--producers N]
                  [--consumers N] [--rate MSG_PER_S] [--faults a,b,...] [--fault-ms MS] [--recover-ms MS]
                  [--seed N] [--dir DIR] [--keep] [--postgres URL]
       pnpm chaos --check DIR
faults: ${FAULTS.join(', ')}`;

/** Options of a run from the command line; throws a usage message on bad input. */
export function parseRunArgs(argv: readonly string[]): RunOptions | { check: string } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' },
      minutes: { type: 'string' },
      brokers: { type: 'string' },
      partitions: { type: 'string' },
      producers: { type: 'string' },
      consumers: { type: 'string' },
      rate: { type: 'string' },
      faults: { type: 'string' },
      'fault-ms': { type: 'string' },
      'recover-ms': { type: 'string' },
      seed: { type: 'string' },
      dir: { type: 'string' },
      postgres: { type: 'string' },
      keep: { type: 'boolean' },
      check: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  if (values.check) return { check: values.check };
  const num = (name: string, v: string | undefined, dflt: number, min: number, max: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name} must be a number in [${min}, ${max}]\n${USAGE}`);
    return n;
  };
  const quick = values.quick ?? false;
  const faults = (values.faults?.split(',').map((f) => f.trim()) ?? [...FAULTS]) as FaultName[];
  for (const f of faults) if (!FAULTS.includes(f)) throw new Error(`unknown fault ${f}\n${USAGE}`);
  const brokers = num('brokers', values.brokers, 3, 3, 5);
  return {
    durationMs: num('minutes', values.minutes, quick ? 1 : 10, 0.1, 24 * 60) * 60_000,
    brokers,
    partitions: num('partitions', values.partitions, 3, 1, 64),
    producers: num('producers', values.producers, 3, 1, 32),
    consumers: num('consumers', values.consumers, 2, 0, 16),
    rate: num('rate', values.rate, 100, 1, 100_000),
    faults,
    faultMs: num('fault-ms', values['fault-ms'], quick ? 4_000 : 8_000, 100, 600_000),
    recoverMs: num('recover-ms', values['recover-ms'], quick ? 3_000 : 5_000, 0, 600_000),
    drainMs: quick ? 40_000 : 90_000,
    seed: num('seed', values.seed, Math.floor(Math.random() * 1e9), 0, 2 ** 32 - 1),
    dir: values.dir,
    postgresUrl: values.postgres,
    keep: values.keep ?? false,
  };
}

export function formatReport(report: CheckReport): string {
  const c = report.counts;
  const lines = [
    `sends ${c.sends}: ${c.acked} acked, ${c.failed} failed, ${c.unknown} unknown (${c.unknownPresent} of them stored)`,
    `reads ${c.reads}; records ${c.records}; lagging replicas ${c.laggingReplicas}; nemesis events ${c.faults}`,
    `violations: ${VIOLATION_KINDS.map((k) => `${k} ${report.violationCounts[k]}`).join(', ')}`,
    ...report.violations.map((v) => `  ${v.kind} (partition ${v.partition}): ${v.message}`),
    report.valid ? 'VALID: no safety violation' : 'INVALID: safety violations found',
  ];
  return lines.join('\n');
}

/** Runs the command line; resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseRunArgs(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if ('check' in parsed) {
    const dir = parsed.check;
    if (!existsSync(join(dir, 'history.jsonl')) || !existsSync(join(dir, 'logs.json'))) {
      console.error(`${dir} holds no history.jsonl and logs.json`);
      return 2;
    }
    const logs = JSON.parse(readFileSync(join(dir, 'logs.json'), 'utf8')) as PartitionLogs[];
    const report = check(readHistory(join(dir, 'history.jsonl')), logs);
    console.log(formatReport(report));
    return report.valid ? 0 : 1;
  }
  const o = parsed;
  console.log(
    `chaos: ${o.brokers} brokers, ${o.partitions} partitions, ${o.producers} producers x ${o.rate} msg/s, ` +
      `${o.consumers} consumers, faults for ${(o.durationMs / 60_000).toFixed(2)} min (${o.faults.join(', ')})`,
  );
  try {
    const r = await runChaos({ ...o, log: (line) => console.log(line) });
    console.log(formatReport(r.report));
    console.log(
      `faults: ${JSON.stringify(r.faultCounts)}; ${r.operations} operations; ${(r.elapsedMs / 1000).toFixed(0)} s; ` +
        `drained: ${r.drained}; retries answered as duplicates: ${r.duplicateRetries}; seed ${o.seed}`,
    );
    if (r.kept)
      console.log(`run kept in ${r.dir} (history.jsonl, logs.json, report.json, cluster/logs, cluster/<broker>)`);
    return r.report.valid ? 0 : 1;
  } catch (e) {
    console.error('chaos run broke:', e);
    console.error('its files are kept (see "run dir" above)');
    return 2;
  }
}
