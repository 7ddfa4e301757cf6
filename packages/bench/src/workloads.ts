/**
 * The four workloads, run the same way against every system:
 *   W1 produce throughput: closed loop, `window` messages in flight per producer, 1 and 4 producers;
 *   W2 consume throughput: read everything W1 wrote, from the first message;
 *   W3 latency: an open-loop producer at a fixed rate; produce->ack and produce->consume measured from
 *      each message's scheduled send time, so a stall counts against every message it delays; several
 *      rounds, each on a new stream (so a new leader placement), pooled into one histogram;
 *   W4 failover: kill -9 of the leader until a produce succeeds again (median of the rounds).
 * Every loop is bounded in time.
 */
import type { Histogram } from 'hdr-histogram-js';
import { newHistogram, percentiles, recordMs } from './histogram.js';
import { fixedValue, MESSAGE_BYTES, readStamp, stampedValue } from './payload.js';
import { median, throughput, type Failover, type Latency, type Throughput } from './results.js';
import type { System } from './system.js';

export interface Tick {
  /** Called often while a workload runs, with how far it got (0..1). */
  (fraction: number): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** W1: `producers` producers, each keeping `system.window` sends in flight, for `seconds`. */
export async function produceThroughput(
  system: System,
  stream: string,
  producers: number,
  seconds: number,
  tick: Tick,
): Promise<Throughput> {
  const handles = await Promise.all(Array.from({ length: producers }, () => system.producer(stream)));
  const value = fixedValue();
  // Registration and connections before the clock starts (these messages are not counted).
  await Promise.all(handles.map((h) => h.send(value)));
  let acked = 0;
  let failures = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  let lastAck = started;
  const progress = setInterval(() => tick(Math.min(1, (performance.now() - started) / (seconds * 1000))), 200);
  const lane = async (send: (v: string) => Promise<void>): Promise<void> => {
    while (performance.now() < end) {
      try {
        await send(value);
        acked++;
        lastAck = performance.now();
      } catch {
        failures++;
        await sleep(10);
      }
    }
  };
  try {
    const lanes: Promise<void>[] = [];
    for (const h of handles) for (let i = 0; i < system.window; i++) lanes.push(lane((v) => h.send(v)));
    await Promise.all(lanes);
  } finally {
    clearInterval(progress);
    await Promise.allSettled(handles.map((h) => h.close()));
  }
  tick(1);
  return throughput(acked, (lastAck - started) / 1000, MESSAGE_BYTES, failures);
}

/** W2: reads `expected` messages from the start of the stream. */
export async function consumeThroughput(
  system: System,
  stream: string,
  expected: number,
  timeoutMs: number,
  tick: Tick,
): Promise<Throughput> {
  let seen = 0;
  const started = performance.now();
  const count = await system.readAll(stream, expected, timeoutMs, () => {
    if (++seen % 5000 === 0) tick(seen / expected);
  });
  const seconds = (performance.now() - started) / 1000;
  tick(1);
  return throughput(count, seconds, MESSAGE_BYTES, expected - count);
}

/** What one W3 round recorded. */
interface LatencyRound {
  readonly ack: Histogram;
  readonly e2e: Histogram;
  readonly acked: number;
  /** From the first scheduled send to the last ack. */
  readonly seconds: number;
  readonly failures: number;
}

/**
 * W3: `rounds` rounds of `latencyRound`, each on a new stream made by `createStream` (a new topic gets a
 * new leader placement, which moves the tail more than anything else on one host). The percentiles are
 * over every message of every round (one pooled histogram, as if it were one long run); each round's
 * produce->ack p99 is kept to show the spread.
 */
export async function latency(
  system: System,
  streamName: (round: number) => string,
  rate: number,
  seconds: number,
  rounds: number,
  tick: Tick,
): Promise<Latency> {
  const ack = newHistogram();
  const e2e = newHistogram();
  const roundsAckP99: number[] = [];
  let acked = 0;
  let busySeconds = 0;
  let failures = 0;
  for (let i = 0; i < rounds; i++) {
    const stream = streamName(i);
    await system.createStream(stream);
    const r = await latencyRound(system, stream, rate, seconds, (f) => tick((i + f) / rounds));
    ack.add(r.ack);
    e2e.add(r.e2e);
    roundsAckP99.push(percentiles(r.ack).p99);
    acked += r.acked;
    busySeconds += r.seconds;
    failures += r.failures;
  }
  return {
    targetRate: rate,
    achievedRate: acked / Math.max(1e-3, busySeconds),
    ack: percentiles(ack),
    endToEnd: percentiles(e2e),
    roundsAckP99,
    failures,
  };
}

/**
 * One W3 round: one producer sends `rate` messages per second for `seconds` (scheduled every
 * millisecond, open loop), while a consumer tails the stream. Gives up sending when more than `rate * 5`
 * are outstanding (the system cannot keep up; the achieved rate shows it), and waits at most 30 s for
 * the stragglers.
 */
async function latencyRound(
  system: System,
  stream: string,
  rate: number,
  seconds: number,
  tick: Tick,
): Promise<LatencyRound> {
  const ack = newHistogram();
  const e2e = newHistogram();
  const total = Math.round(rate * seconds);
  let received = 0;
  const consumer = await system.tail(stream, (value) => {
    const at = readStamp(value);
    if (!Number.isFinite(at)) return;
    recordMs(e2e, performance.now() - at);
    received++;
  });
  const producer = await system.producer(stream);
  await producer.send(stampedValue(performance.now())); // registration and connections out of the way
  let sent = 0;
  let acked = 0;
  let failures = 0;
  let lastAck = 0;
  const inflight = new Set<Promise<void>>();
  const started = performance.now();
  try {
    while (sent < total) {
      const now = performance.now();
      if (now - started > seconds * 1000 * 3) break; // hopelessly behind
      const due = Math.min(total, Math.floor(((now - started) / 1000) * rate));
      while (sent < due && inflight.size <= rate * 5) {
        const scheduledAt = started + (sent / rate) * 1000;
        sent++;
        const p = producer.send(stampedValue(scheduledAt)).then(
          () => {
            recordMs(ack, performance.now() - scheduledAt);
            acked++;
            lastAck = performance.now();
          },
          () => void failures++,
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      tick(sent / total);
      await sleep(1);
    }
    await Promise.race([Promise.all(inflight), sleep(30_000)]);
    // The consumer may trail the acks a little.
    const waitUntil = performance.now() + 10_000;
    while (received < acked && performance.now() < waitUntil) await sleep(20);
  } finally {
    await producer.close().catch(() => undefined);
    await consumer.stop();
  }
  tick(1);
  return {
    ack,
    e2e,
    acked,
    seconds: Math.max(0, lastAck - started) / 1000,
    failures: failures + (sent < total ? total - sent : 0),
  };
}

/** W4: `rounds` failover rounds on a one-partition stream. */
export async function failover(
  system: System,
  stream: string,
  rounds: number,
  tick: Tick,
): Promise<Failover | undefined> {
  const round = system.failoverRound?.bind(system);
  if (!round) return undefined;
  const roundsMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    roundsMs.push(await round(stream));
    tick((i + 1) / rounds);
  }
  return { roundsMs, medianMs: median(roundsMs) };
}
