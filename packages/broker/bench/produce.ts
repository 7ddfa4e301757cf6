/**
 * Produce benchmark: three local broker processes, a topic of PARTITIONS partitions replicated 3 times,
 * 100-byte messages in batches of 1000, acks=all, CONCURRENCY requests in flight per partition, for
 * DURATION_S seconds. Prints msg/s, MB/s and produce latency percentiles (hdr-histogram).
 *
 *   pnpm --filter @myqueue/broker bench            # PARTITIONS=3 CONCURRENCY=4 DURATION_S=15
 */
import { build } from 'hdr-histogram-js';
import { Pool } from 'undici';
import { Cluster, call, type BrokerProc } from '../test/cluster.js';

const PARTITIONS = Number(process.env.PARTITIONS ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const DURATION_S = Math.min(Number(process.env.DURATION_S ?? 15), 120);
const BATCH = Number(process.env.BATCH ?? 1000);
const MESSAGE_BYTES = 100;
const TOPIC = 'bench';

async function leaderOf(brokers: BrokerProc[], partition: number): Promise<BrokerProc | undefined> {
  for (const b of brokers) {
    const s = await call('GET', `${b.url}/v1/partitions/${TOPIC}/${partition}/status`);
    if (s.body.role === 'leader') return b;
  }
  return undefined;
}

async function main(): Promise<void> {
  const cluster = new Cluster({ LOG_LEVEL: 'warn' });
  try {
    for (const id of ['b1', 'b2', 'b3']) await cluster.add(id);
    const brokers = cluster.brokers;
    const replicas = brokers.map((b) => ({ id: b.id, url: b.url, peer: b.peer }));
    for (let p = 0; p < PARTITIONS; p++) {
      for (const b of brokers) await call('PUT', `${b.url}/v1/admin/partitions/${TOPIC}/${p}`, { replicas }, true);
    }
    const leaders: BrokerProc[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const deadline = Date.now() + 20_000;
      let l: BrokerProc | undefined;
      while (!(l = await leaderOf(brokers, p))) {
        if (Date.now() > deadline) throw new Error(`no leader for partition ${p}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      leaders.push(l);
    }
    const pools = new Map(brokers.map((b) => [b.url, new Pool(b.url, { connections: PARTITIONS * CONCURRENCY })]));
    const value = 'x'.repeat(MESSAGE_BYTES);
    const body = JSON.stringify({ records: Array.from({ length: BATCH }, () => ({ value })), acks: 'all' });
    const histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
    let messages = 0;
    let failures = 0;
    const warmupEnd = Date.now() + 2_000;
    const end = warmupEnd + DURATION_S * 1000;
    let measuredFrom = 0;
    const worker = async (p: number): Promise<void> => {
      const pool = pools.get(leaders[p].url)!;
      const path = `/v1/partitions/${TOPIC}/${p}/produce`;
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        const res = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } });
        await res.body.text();
        const now = Date.now();
        if (res.statusCode !== 200) {
          failures++;
          continue;
        }
        if (now >= warmupEnd) {
          if (measuredFrom === 0) measuredFrom = now;
          messages += BATCH;
          histogram.recordValue(Number(process.hrtime.bigint() - t0) / 1000);
        }
      }
    };
    const workers: Promise<void>[] = [];
    for (let p = 0; p < PARTITIONS; p++) for (let c = 0; c < CONCURRENCY; c++) workers.push(worker(p));
    await Promise.all(workers);
    const seconds = (Date.now() - measuredFrom) / 1000;
    const result = {
      partitions: PARTITIONS,
      concurrencyPerPartition: CONCURRENCY,
      batch: BATCH,
      messageBytes: MESSAGE_BYTES,
      seconds: Number(seconds.toFixed(1)),
      messages,
      msgPerSec: Math.round(messages / seconds),
      mbPerSec: Number(((messages * MESSAGE_BYTES) / seconds / 1e6).toFixed(2)),
      p50Ms: Number((histogram.getValueAtPercentile(50) / 1000).toFixed(1)),
      p99Ms: Number((histogram.getValueAtPercentile(99) / 1000).toFixed(1)),
      maxMs: Number((histogram.maxValue / 1000).toFixed(1)),
      failures,
    };
    console.log(JSON.stringify(result, null, 2));
    await Promise.all([...pools.values()].map((p) => p.close()));
  } finally {
    for (const b of cluster.brokers) await cluster.stop(b); // graceful, so --cpu-prof runs write profiles
    await cluster.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
