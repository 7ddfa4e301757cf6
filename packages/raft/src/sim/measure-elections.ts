import type { NodeFactory } from './cluster.js';
import { SimCluster } from './cluster.js';
import { SimViolation } from './invariants.js';
import { requireLiveness } from './run-seed.js';

export interface ElectionRow {
  readonly voters: number;
  readonly samples: number;
  /** In election timeouts (electionTick ticks), from the leader's crash to a new leader. */
  readonly median: number;
  readonly p90: number;
  readonly p99: number;
  readonly worst: number;
  readonly worstSeed: number;
}

export interface ElectionMeasurement {
  readonly rows: readonly ElectionRow[];
  readonly violations: readonly { seed: number; message: string }[];
}

/**
 * Election time after a leader loss: per seed, a healthy cluster on a reliable network elects a leader,
 * commits a little, then the leader crashes; we measure the virtual time until another node leads, in
 * units of the election timeout. This includes the followers' wait for the timeout itself, as a client
 * sees it (Pre-Vote and Check-Quorum on, the defaults).
 */
export function measureElections(options: { seeds: number; start: number; createNode: NodeFactory; voters?: readonly number[] }): ElectionMeasurement {
  const rows: ElectionRow[] = [];
  const violations: { seed: number; message: string }[] = [];
  for (const voters of options.voters ?? [3, 5]) {
    const samples: { seed: number; timeouts: number }[] = [];
    for (let k = 0; k < options.seeds; k++) {
      const seed = options.start + k;
      try {
        const t = measureOne(seed, voters, options.createNode);
        samples.push({ seed, timeouts: t });
      } catch (err) {
        if (!(err instanceof SimViolation)) throw err;
        violations.push({ seed, message: err.message });
      }
    }
    samples.sort((a, b) => a.timeouts - b.timeouts);
    const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]?.timeouts ?? NaN;
    const worst = samples[samples.length - 1];
    rows.push({ voters, samples: samples.length, median: at(0.5), p90: at(0.9), p99: at(0.99), worst: worst?.timeouts ?? NaN, worstSeed: worst?.seed ?? 0 });
  }
  return { rows, violations };
}

function measureOne(seed: number, voters: number, createNode: NodeFactory): number {
  const c = new SimCluster({ seed, voters, createNode, traceLines: 1 });
  const electionMs = c.electionTick * c.tickMs;
  requireLiveness(c, 'initial election', 20 * electionMs);
  // Let heartbeats settle at a random phase of the leader's heartbeat cycle.
  c.runFor(5 * electionMs + c.rng.int(electionMs));
  const old = c.leader()!;
  const oldTerm = old.raft!.softState.term;
  const crashedAt = c.now;
  c.crash(old.id);
  const ok = c.runUntil(() => c.leaders().some((l) => l.raft!.softState.term > oldTerm), 50 * electionMs);
  if (!ok) c.checker.fail('liveness', `no new leader within ${50 * electionMs} ms of the leader's crash`);
  return (c.now - crashedAt) / electionMs;
}
