/** What every workload measures, per system under test. */

export interface Throughput {
  readonly messages: number;
  readonly seconds: number;
  readonly msgPerSec: number;
  readonly mbPerSec: number;
  /** Sends or reads that failed (each message counted once). */
  readonly failures: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

export interface Latency {
  readonly targetRate: number;
  /** Messages acknowledged per second over the rounds (below targetRate when the system could not keep up). */
  readonly achievedRate: number;
  /**
   * produce -> durable ack, ms, measured from each message's scheduled send time (no coordinated
   * omission), over the messages of every round.
   */
  readonly ack: Percentiles;
  /** produce -> received by a consumer, ms, from the scheduled send time, over every round. */
  readonly endToEnd: Percentiles;
  /** Each round's own produce->ack p99, ms (the spread between rounds). */
  readonly roundsAckP99: readonly number[];
  readonly failures: number;
}

export interface Failover {
  /** Milliseconds from kill -9 of the leader to the first acknowledged produce, one per round. */
  readonly roundsMs: readonly number[];
  readonly medianMs: number;
}

export interface SystemResults {
  readonly name: string;
  readonly produce1?: Throughput;
  readonly produce4?: Throughput;
  readonly consume?: Throughput;
  readonly latency: Latency[];
  readonly failover?: Failover;
  /** Why a system or some workloads did not run. */
  readonly notes: string[];
}

export function throughput(messages: number, seconds: number, messageBytes: number, failures: number): Throughput {
  const s = Math.max(seconds, 1e-3);
  return {
    messages,
    seconds: s,
    msgPerSec: messages / s,
    mbPerSec: (messages * messageBytes) / s / 1e6,
    failures,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
