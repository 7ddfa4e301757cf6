/**
 * One chaos run: start the cluster, run the workload while the nemesis injects faults, heal, drain, read
 * every replica's log, check. The run directory holds history.jsonl, logs.json (every replica's records),
 * report.json and cluster/ (data and process logs); it is removed when the run passes, kept when it fails.
 */
import { MyQueue } from 'myqueue';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosCluster } from './chaos-cluster.js';
import { check, type CheckReport, type PartitionLogs } from './checker.js';
import { HistoryWriter, readHistory } from './history.js';
import { seededRandom } from '@myqueue/raft';
import { Nemesis, type FaultName } from './nemesis.js';
import { Workload } from './workload.js';

export interface RunOptions {
  /** How long faults are injected, ms (the run also has start-up, heal and drain phases). */
  readonly durationMs: number;
  readonly brokers: number;
  readonly partitions: number;
  readonly producers: number;
  readonly consumers: number;
  /** Messages per second per producer. */
  readonly rate: number;
  readonly faults: readonly FaultName[];
  readonly faultMs: number;
  readonly recoverMs: number;
  readonly seed: number;
  /** Bound of each drain phase (open sends, replica convergence, consumers catching up), ms. */
  readonly drainMs: number;
  /** Postgres server for the manager (e.g. postgres://postgres@127.0.0.1:5432/postgres). Default: PGlite. */
  readonly postgresUrl?: string | undefined;
  /** Run directory. Default: a new temp dir. */
  readonly dir?: string;
  /** Keep the run directory even when the run passes. */
  readonly keep?: boolean;
  readonly log?: (line: string) => void;
}

export interface RunResult {
  readonly report: CheckReport;
  readonly dir: string;
  /** Whether the run directory was kept. */
  readonly kept: boolean;
  readonly faultCounts: Readonly<Record<string, number>>;
  readonly operations: number;
  readonly elapsedMs: number;
  /** Produce retries the brokers answered as duplicates (stored once: idempotence at work). */
  readonly duplicateRetries: number;
  /** Whether every replica converged and every consumer caught up before the final read. */
  readonly drained: boolean;
}

const TOPIC = 'chaos';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runChaos(o: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const log = o.log ?? (() => {});
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'myqueue-chaos-'));
  mkdirSync(dir, { recursive: true });
  const historyPath = join(dir, 'history.jsonl');
  const history = new HistoryWriter(historyPath);
  log(`run dir ${dir}; seed ${o.seed}`);
  const cluster = await ChaosCluster.start({ brokers: o.brokers, dir, postgresUrl: o.postgresUrl });
  let result: RunResult | undefined;
  try {
    const admin = new MyQueue({ manager: cluster.cluster.managerUrl, heartbeats: false });
    await admin.createTopic({ name: TOPIC, partitions: o.partitions, replicationFactor: Math.min(3, o.brokers) });
    await admin.close();
    log(
      `cluster up: manager (${o.postgresUrl ? 'Postgres' : 'PGlite'}) + ${o.brokers} brokers behind the peer proxy; topic ${TOPIC} x${o.partitions}, RF 3`,
    );

    const workload = new Workload(
      {
        managerUrl: cluster.cluster.managerUrl,
        topic: TOPIC,
        partitions: o.partitions,
        producers: o.producers,
        consumers: o.consumers,
        rate: o.rate,
        maxInFlight: 50,
      },
      history,
    );
    workload.start();
    const nemesis = new Nemesis(cluster, history, {
      topic: TOPIC,
      faults: o.faults,
      random: seededRandom(o.seed),
      faultMs: o.faultMs,
      recoverMs: o.recoverMs,
      onEvent: (line) => log(`  [${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`),
    });
    const stopFaults = new AbortController();
    const progress = setInterval(
      () => log(`  ... ${workload.acked} acked, ${workload.reads} read, ${history.count} ops`),
      15_000,
    );
    const faulting = nemesis.run(stopFaults.signal);
    await sleep(o.durationMs);
    stopFaults.abort();
    await faulting;

    log('heal: resume, restart and reconnect everything; drain');
    await nemesis.healAll();
    const abandoned = await workload.stopProducers(o.drainMs);
    if (abandoned > 0) log(`${abandoned} sends never completed (left unknown)`);
    const ends = await converge(cluster, o.drainMs);
    const consumersDone = await workload.waitConsumers(ends ?? new Map(), Date.now() + o.drainMs);
    await workload.stopConsumers();
    clearInterval(progress);
    await history.close();
    const logs = await readLogs(cluster, o.partitions);
    writeFileSync(join(dir, 'logs.json'), JSON.stringify(logs));
    const report = check(readHistory(historyPath), logs);
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 2));
    result = {
      report,
      dir,
      kept: !report.valid || (o.keep ?? false),
      faultCounts: Object.fromEntries(nemesis.counts),
      operations: history.count,
      elapsedMs: Date.now() - started,
      drained: ends !== undefined && consumersDone,
      duplicateRetries: workload.duplicates,
    };
    return result;
  } finally {
    await history.close().catch(() => undefined);
    await cluster.stop();
    if (result && !result.kept) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Waits until every partition has a leader and all its replicas report the same high watermark (twice in
 * a row); resolves to each partition's high watermark, or undefined at the deadline.
 */
async function converge(cluster: ChaosCluster, timeoutMs: number): Promise<Map<number, number> | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const healths = await Promise.all(cluster.brokerIds.map((id) => cluster.health(id)));
    const byPartition = new Map<number, { hw: Set<number>; leader: boolean; replicas: number }>();
    let everyoneAnswered = true;
    for (const h of healths) {
      if (!h) {
        everyoneAnswered = false;
        continue;
      }
      for (const p of h) {
        if (p.topic !== TOPIC) continue;
        const e = byPartition.get(p.partition) ?? { hw: new Set<number>(), leader: false, replicas: 0 };
        e.hw.add(p.highWatermark);
        e.leader ||= p.role === 'leader';
        e.replicas++;
        byPartition.set(p.partition, e);
      }
    }
    const settled = everyoneAnswered && [...byPartition.values()].every((e) => e.leader && e.hw.size === 1);
    const ends = new Map([...byPartition].map(([p, e]) => [p, Math.max(...e.hw)]));
    const key = JSON.stringify([...ends]);
    if (settled && key === last) return ends;
    last = settled ? key : '';
    await sleep(1000);
  }
  return undefined;
}

/** Every replica's records of every partition (replicas found through each broker's health). */
async function readLogs(cluster: ChaosCluster, partitions: number): Promise<PartitionLogs[]> {
  const logs: { partition: number; replicas: Record<string, { offset: number; value: string }[]> }[] = [];
  for (let p = 0; p < partitions; p++) logs.push({ partition: p, replicas: {} });
  for (const id of cluster.brokerIds) {
    const held = (await cluster.health(id)) ?? [];
    for (const h of held) {
      if (h.topic !== TOPIC || h.partition >= partitions) continue;
      logs[h.partition].replicas[id] = await cluster.records(id, TOPIC, h.partition);
    }
  }
  return logs;
}
