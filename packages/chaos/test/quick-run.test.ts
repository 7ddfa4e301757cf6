/**
 * `pnpm chaos --quick` as a test: a real cluster (manager + 3 brokers as processes) under the workload
 * while the nemesis injects faults for a minute, then the checker. Fails on any safety violation, keeping
 * the run's files and printing where they are. About 2 minutes.
 *
 * The manager keeps its metadata on the machine's Postgres when it answers (a fresh database, dropped after),
 * like the client's cluster tests, else on its embedded PGlite (a machine with only Node).
 */
import { reachablePostgres } from '@myqueue/local-cluster';
import { afterAll, describe, expect, it } from 'vitest';
import { ChaosCluster } from '../src/chaos-cluster.js';
import { formatReport, parseRunArgs } from '../src/cli.js';
import { VIOLATION_KINDS } from '../src/checker.js';
import { runChaos, type RunOptions } from '../src/run.js';

// A run cut short by the test timeout must not leave its processes behind.
afterAll(async () => {
  await Promise.all([...ChaosCluster.running].map((c) => c.stop()));
});

describe('pnpm chaos --quick', () => {
  it('finds no lost, duplicated or inconsistent message under kills, pauses, partitions and manager faults', async () => {
    const postgres = await reachablePostgres();
    const options = parseRunArgs(['--quick', ...(postgres ? ['--postgres', postgres] : [])]) as RunOptions;
    const lines: string[] = [];
    const result = await runChaos({ ...options, log: (line) => lines.push(line) });
    const summary = `${lines.join('\n')}\n${formatReport(result.report)}\nseed ${options.seed}${
      result.kept ? `; run kept in ${result.dir}` : ''
    }`;
    console.log(summary);
    expect(result.report.valid, summary).toBe(true);
    for (const kind of VIOLATION_KINDS) expect(result.report.violationCounts[kind], kind).toBe(0);
    // The run did something: faults were injected and messages acknowledged and read.
    expect(result.report.counts.faults).toBeGreaterThan(0);
    expect(result.report.counts.acked).toBeGreaterThan(0);
    expect(result.report.counts.reads).toBeGreaterThan(0);
    expect(result.kept).toBe(false);
  }, 240_000);
});

describe('command line', () => {
  it('reads the run options, with quick defaults and checked numbers', () => {
    const quick = parseRunArgs(['--quick', '--seed', '7']) as RunOptions;
    expect(quick.durationMs).toBe(60_000);
    expect(quick.seed).toBe(7);
    expect(quick.brokers).toBe(3);
    const soak = parseRunArgs(['--minutes', '60', '--brokers', '5', '--faults', 'kill-leader,split']) as RunOptions;
    expect(soak.durationMs).toBe(3_600_000);
    expect(soak.brokers).toBe(5);
    expect(soak.faults).toEqual(['kill-leader', 'split']);
    expect(parseRunArgs(['--check', '/tmp/x'])).toEqual({ check: '/tmp/x' });
    expect(() => parseRunArgs(['--faults', 'meteor'])).toThrow(/unknown fault meteor/);
    expect(() => parseRunArgs(['--brokers', '9'])).toThrow(/--brokers/);
  });
});
