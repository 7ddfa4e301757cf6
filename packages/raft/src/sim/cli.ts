#!/usr/bin/env node
/**
 * The randomized Raft simulation from the command line:
 *
 *   pnpm --filter @myqueue/raft sim --seeds 2000 --start 1     # seeds 1..2000, all faults mixed
 *   pnpm --filter @myqueue/raft sim --seeds 1 --start 1234 --verbose   # replay one seed with a full trace
 *   pnpm --filter @myqueue/raft sim --measure-elections --seeds 500    # election time after leader loss
 *
 * The last line is `seeds: N violations: V ...`; the exit code is 1 when any seed broke an invariant.
 */
import { parseArgs } from 'node:util';
import { createRaftNode } from './default-node.js';
import { measureElections } from './measure-elections.js';
import type { SeedResult } from './run-seed.js';
import { runSeed } from './run-seed.js';

const USAGE = `usage: sim [--seeds N] [--start S] [--chaos-ms MS] [--verbose] [--measure-elections]`;

function main(): number {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '100' },
      start: { type: 'string', default: '1' },
      'chaos-ms': { type: 'string', default: '3000' },
      verbose: { type: 'boolean', default: false },
      'measure-elections': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const seeds = Number(values.seeds);
  const start = Number(values.start);
  const chaosMs = Number(values['chaos-ms']);
  if (!Number.isInteger(seeds) || seeds < 1 || !Number.isInteger(start) || !Number.isInteger(chaosMs) || chaosMs < 0) {
    console.error(USAGE);
    return 2;
  }
  if (values['measure-elections']) return runMeasure(seeds, start);
  return runSeeds(seeds, start, chaosMs, values.verbose);
}

function runSeeds(seeds: number, start: number, chaosMs: number, verbose: boolean): number {
  const began = Date.now();
  const totals = { steps: 0, commits: 0, acked: 0, elections: 0, crashes: 0, snapshots: 0, confChanges: 0, reads: 0, messages: 0 };
  const failed: SeedResult[] = [];
  const progress = new Progress(seeds);
  for (let k = 0; k < seeds; k++) {
    const seed = start + k;
    const result = runSeed({
      seed,
      createNode: createRaftNode,
      chaosMs,
      ...(verbose ? { verbose: (line: string) => console.log(line) } : {}),
    });
    const s = result.stats;
    totals.steps += s.steps;
    totals.commits += s.commits;
    totals.acked += s.acked;
    totals.elections += s.elections;
    totals.crashes += s.crashes;
    totals.snapshots += s.snapshotsTaken + s.snapshotsInstalled;
    totals.confChanges += s.confChangesApplied;
    totals.reads += s.readsServed;
    totals.messages += s.messages;
    if (result.violation) {
      failed.push(result);
      progress.clear();
      report(result, chaosMs);
    }
    progress.update(k + 1, failed.length);
  }
  progress.clear();
  const secs = ((Date.now() - began) / 1000).toFixed(1);
  console.log(
    `seeds: ${seeds} violations: ${failed.length} steps: ${totals.steps} commits: ${totals.commits} acked: ${totals.acked} ` +
      `elections: ${totals.elections} crashes: ${totals.crashes} snapshots: ${totals.snapshots} conf-changes: ${totals.confChanges} ` +
      `reads: ${totals.reads} messages: ${totals.messages} time: ${secs}s` +
      (failed.length > 0 ? ` failed-seeds: ${failed.map((f) => f.seed).join(',')}` : ''),
  );
  return failed.length > 0 ? 1 : 0;
}

function report(result: SeedResult, chaosMs: number): void {
  const v = result.violation!;
  const chaos = chaosMs === 3000 ? '' : ` --chaos-ms ${chaosMs}`;
  console.log(`\nVIOLATION seed ${result.seed}: ${v.invariant} at t=${v.time}`);
  console.log(`  ${v.detail.split('\n').join('\n  ')}`);
  console.log(`  config: ${result.config}`);
  console.log(`  trace tail:`);
  for (const line of result.traceTail) console.log(`    ${line}`);
  console.log(`  replay: pnpm --filter @myqueue/raft sim --seeds 1 --start ${result.seed}${chaos} --verbose\n`);
}

function runMeasure(seeds: number, start: number): number {
  const m = measureElections({ seeds, start, createNode: createRaftNode });
  for (const row of m.rows) {
    console.log(
      `voters=${row.voters}: ${row.samples} leader losses, election time in election timeouts: ` +
        `median ${row.median.toFixed(2)}, p90 ${row.p90.toFixed(2)}, p99 ${row.p99.toFixed(2)}, worst ${row.worst.toFixed(2)} (seed ${row.worstSeed})`,
    );
  }
  console.log(`seeds: ${seeds} violations: ${m.violations.length}`);
  for (const v of m.violations) console.log(`  seed ${v.seed}: ${v.message}`);
  return m.violations.length > 0 ? 1 : 0;
}

/** A one-line progress indicator on a terminal; a line per 10% otherwise (CI logs). */
class Progress {
  readonly #total: number;
  readonly #tty = process.stderr.isTTY;
  #lastDecile = 0;
  #lastDraw = 0;

  constructor(total: number) {
    this.#total = total;
  }

  update(done: number, violations: number): void {
    const text = `sim ${done}/${this.#total} seeds, ${violations} violations`;
    if (this.#tty) {
      const now = Date.now();
      if (now - this.#lastDraw < 100 && done < this.#total) return;
      this.#lastDraw = now;
      process.stderr.write(`\r${text}`);
      return;
    }
    const decile = Math.floor((10 * done) / this.#total);
    if (decile > this.#lastDecile) {
      this.#lastDecile = decile;
      process.stderr.write(`${text}\n`);
    }
  }

  clear(): void {
    if (this.#tty) process.stderr.write('\r\x1b[K');
  }
}

process.exitCode = main();
