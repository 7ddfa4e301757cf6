#!/usr/bin/env node
/**
 * `pnpm bench`: myqueue through its client against NATS JetStream, same workloads, same machine, same run
 * (see workloads.ts and docs/benchmarks.md). Starts and stops every process it needs.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reachablePostgres } from '@myqueue/local-cluster';
import { MyQueueSystem } from './myqueue-system.js';
import { findNatsServer, NatsCluster } from './nats-cluster.js';
import { NatsSystem } from './nats-system.js';
import { parseOptions, type BenchOptions } from './options.js';
import { Progress } from './progress.js';
import { writeSection, table } from './report.js';
import type { SystemResults, Throughput } from './results.js';
import type { System } from './system.js';
import { consumeThroughput, failover, latency, produceThroughput } from './workloads.js';

/** Runs every workload against one system; a failing workload is noted and the others still run. */
async function runAll(system: System, o: BenchOptions, progress: Progress): Promise<SystemResults> {
  const notes: string[] = [];
  const step = async <T>(label: string, fn: (tick: (f: number) => void) => Promise<T>): Promise<T | undefined> => {
    progress.begin(`${system.name}: ${label}`);
    try {
      return await fn((f) => progress.tick(f));
    } catch (e) {
      notes.push(`${label} failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    } finally {
      progress.end();
    }
  };
  await system.createStream('tput');
  const produce1 = await step('W1 1 producer', (t) => produceThroughput(system, 'tput', 1, o.produceSeconds, t));
  const produce4 = await step('W1 4 producers', (t) => produceThroughput(system, 'tput', 4, o.produceSeconds, t));
  // Everything W1 wrote, including each producer's warm-up message.
  const written = (produce1 ? produce1.messages + 1 : 0) + (produce4 ? produce4.messages + 4 : 0);
  let consume: Throughput | undefined;
  if (written > 0) consume = await step('W2 consume', (t) => consumeThroughput(system, 'tput', written, 120_000, t));
  const lat = [];
  for (const rate of o.rates) {
    const stream = (round: number) => `lat${rate}r${round + 1}`;
    const r = await step(`W3 ${rate} msg/s`, (t) =>
      latency(system, stream, rate, o.latencySeconds, o.latencyRounds, t),
    );
    if (r) lat.push(r);
  }
  let fo;
  if (system.failoverRound && o.failoverRounds > 0) {
    fo = await step('W4 failover', async (t) => {
      await system.createStream('failover', 1);
      return failover(system, 'failover', o.failoverRounds, t);
    });
  }
  return { name: system.name, produce1, produce4, consume, latency: lat, failover: fo, notes };
}

function machine(natsServer: string | undefined): string {
  const c = cpus();
  const natsVersion = natsServer
    ? execFileSync(natsServer, ['--version'], { encoding: 'utf8' }).trim()
    : 'nats-server not installed';
  return [
    `${c.length} x ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}`,
    `Node ${process.version}, ${natsVersion}`,
  ].join('; ');
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const natsServer = o.systems.includes('nats') ? findNatsServer() : undefined;
  const plan: string[] = [];
  if (o.systems.includes('myqueue')) plan.push('myqueue R3');
  if (natsServer) plan.push('NATS R3', ...(o.quick ? [] : ['NATS R1']));
  const stepsPerSystem = 3 + o.rates.length + 1;
  const progress = new Progress(plan.length * stepsPerSystem, o.progress);
  const load0 = loadavg()[0];
  const startedAt = new Date();
  const results: SystemResults[] = [];
  const skipped: string[] = [];
  if (o.systems.includes('nats') && !natsServer)
    skipped.push('NATS JetStream skipped: nats-server not found (apt-get install nats-server, or set NATS_SERVER)');

  const postgresUrl =
    !o.systems.includes('myqueue') || o.metadata === 'pglite'
      ? undefined
      : await reachablePostgres(o.metadata === 'auto' ? undefined : o.metadata);
  if (o.metadata !== 'auto' && o.metadata !== 'pglite' && !postgresUrl)
    throw new Error(`--postgres ${o.metadata} does not answer`);
  try {
    if (o.systems.includes('myqueue')) {
      progress.begin('starting the myqueue cluster');
      const preload = fileURLToPath(new URL('./cpu-profile-preload.js', import.meta.url));
      const brokerEnv: Record<string, string> = o.cpuProf
        ? { NODE_OPTIONS: `--import=${preload}`, BENCH_CPU_PROF_DIR: resolve(o.cpuProf) }
        : {};
      const mq = await MyQueueSystem.start({
        postgresUrl,
        partitions: o.partitions,
        batchSize: o.batchSize,
        lingerMs: o.lingerMs,
        maxInFlight: o.maxInFlight,
        partitioner: o.partitioner,
        window: o.window,
        brokerEnv,
      });
      progress.end(0);
      try {
        results.push(await runAll(mq, o, progress));
      } finally {
        await mq.close();
      }
    }
    if (natsServer) {
      // --quick (CI smoke) compares with R3 only, to stay near a minute.
      for (const replicas of o.quick ? [3] : [3, 1]) {
        progress.begin(`starting nats-server x3 for R${replicas}`);
        const cluster = await NatsCluster.start(natsServer, 3);
        progress.end(0);
        try {
          const nats = await NatsSystem.open(cluster, replicas);
          try {
            results.push(await runAll(nats, o, progress));
          } finally {
            await nats.close();
          }
        } finally {
          await cluster.stop();
        }
      }
    }
  } finally {
    progress.stop();
  }

  const load1 = loadavg()[0];
  const command = `pnpm bench ${process.argv.slice(2).join(' ')}`.trim();
  const md = [
    `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\`.`,
    `Machine: ${machine(natsServer)}; load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end.`,
    `Settings: W1 ${o.produceSeconds} s per run, W3 ${o.latencyRounds} x ${o.latencySeconds} s per rate, W4 ${o.failoverRounds} round(s); ` +
      `myqueue manager on ${postgresUrl ? 'Postgres' : 'PGlite'}, topic of ${o.partitions} partition(s), producer batchSize ${o.batchSize}, lingerMs ${o.lingerMs}, ` +
      `maxInFlight ${o.maxInFlight}, ${o.partitioner} partitions for keyless records, ` +
      `${o.window} sends in flight per producer; NATS ${4096} publishes in flight per producer.`,
    '',
    table(results, o.rates),
    ...(skipped.length ? ['', ...skipped.map((s) => `- ${s}`)] : []),
  ].join('\n');
  console.log(`\n${md}\n`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, results, skipped }, null, 2));
  if (o.docs) {
    writeSection(o.docs, md, '## myqueue vs NATS JetStream (`pnpm bench`)');
    console.log(`results written to ${o.docs}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
