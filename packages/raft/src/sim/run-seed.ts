import type { NodeFactory, SimStats } from './cluster.js';
import { SimCluster } from './cluster.js';
import { SimViolation } from './invariants.js';
import { Prng } from './prng.js';
import { Workload } from './workload.js';

export interface SeedOptions {
  readonly seed: number;
  readonly createNode: NodeFactory;
  /** Virtual ms of the fault phase. Default 3000. */
  readonly chaosMs?: number;
  /** Print every event. */
  readonly verbose?: (line: string) => void;
  /** Lines of trace kept for the report. Default 40. */
  readonly traceLines?: number;
  readonly checkSendAfterSync?: boolean;
}

export interface SeedResult {
  readonly seed: number;
  readonly config: string;
  readonly violation?: SimViolation;
  readonly traceTail: readonly string[];
  readonly stats: SimStats & {
    commits: number;
    elections: number;
    messages: number;
    virtualMs: number;
  };
}

/** Per-seed variation of the cluster, drawn from the seed itself. */
function chooseConfig(seed: number): { voters: number; preVote: boolean; checkQuorum: boolean; extra: Record<string, number> } {
  const rng = new Prng(seed ^ 0x5eed5eed);
  const electionTick = rng.pick([10, 10, 5, 20]);
  return {
    voters: rng.chance(0.6) ? 3 : 5,
    preVote: rng.chance(0.8),
    checkQuorum: rng.chance(0.8),
    extra: {
      electionTick,
      heartbeatTick: rng.pick([1, 1, 2, Math.floor(electionTick / 3)]),
      faultEveryMs: rng.pick([50, 150, 150, 400]),
      leaderChurn: rng.chance(0.25) ? 1 : 0,
      persistDelayMax: rng.pick([0, 2, 5]),
      maxSizePerMsg: rng.pick([1, 64, 1024, 1 << 20]),
      maxInflightMsgs: rng.pick([1, 4, 256]),
      snapshotChunkBytes: rng.pick([32, 256, 1 << 20]),
    },
  };
}

/**
 * One randomized run: elect, then a fault phase with the full client and fault mix, then heal everything
 * and require liveness (a leader, and a new proposal acknowledged, within a bounded virtual time) and
 * convergence (every member applies everything, including every acknowledged write).
 */
export function runSeed(options: SeedOptions): SeedResult {
  const cfg = chooseConfig(options.seed);
  const cluster = new SimCluster({
    seed: options.seed,
    voters: cfg.voters,
    createNode: options.createNode,
    preVote: cfg.preVote,
    checkQuorum: cfg.checkQuorum,
    electionTick: cfg.extra.electionTick,
    heartbeatTick: cfg.extra.heartbeatTick,
    persistDelayMax: cfg.extra.persistDelayMax,
    maxSizePerMsg: cfg.extra.maxSizePerMsg,
    maxInflightMsgs: cfg.extra.maxInflightMsgs,
    snapshotChunkBytes: cfg.extra.snapshotChunkBytes,
    traceLines: options.traceLines ?? 40,
    ...(options.verbose ? { verbose: options.verbose } : {}),
    ...(options.checkSendAfterSync !== undefined ? { checkSendAfterSync: options.checkSendAfterSync } : {}),
  });
  const config =
    `voters=${cfg.voters} preVote=${cfg.preVote} checkQuorum=${cfg.checkQuorum} ` +
    Object.entries(cfg.extra)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  const electionMs = cluster.electionTick * cluster.tickMs;
  let violation: SimViolation | undefined;
  try {
    const workload = new Workload(cluster, {
      maxVoters: 5,
      maxMembers: 6,
      clientEveryMs: 8,
      faultEveryMs: cfg.extra.leaderChurn === 1 ? 30 : cfg.extra.faultEveryMs,
      leaderChurn: cfg.extra.leaderChurn === 1,
      // Also without Check-Quorum: the core must then fall back to ReadIndex (a lease needs Check-Quorum).
      leaseReads: true,
    });
    requireLiveness(cluster, 'initial election', 20 * electionMs);
    workload.startClients();
    workload.startFaults();
    cluster.runFor(options.chaosMs ?? 3000);
    workload.healAll();
    // Liveness: with every fault healed, a leader must emerge and commit a new proposal.
    requireLiveness(cluster, 'after faults healed', 20 * electionMs);
    workload.stopClients();
    // Catching up hundreds of entries one small message at a time may take longer than elections do.
    requireConvergence(cluster, Math.max(20 * electionMs, 5000));
  } catch (err) {
    if (!(err instanceof SimViolation)) throw err;
    violation = err;
  }
  return {
    seed: options.seed,
    config,
    ...(violation ? { violation } : {}),
    traceTail: violation ? cluster.trace.tail() : [],
    stats: {
      ...cluster.stats,
      commits: cluster.checker.maxCommitted,
      elections: cluster.checker.elections,
      messages: cluster.network.stats.sent,
      virtualMs: cluster.now,
    },
  };
}

/** A leader is elected and a fresh proposal is acknowledged within `boundMs`. */
export function requireLiveness(cluster: SimCluster, when: string, boundMs: number): number {
  const start = cluster.now;
  const ackedBefore = cluster.stats.acked;
  let nextTry = cluster.now;
  const ok = cluster.runUntil(() => {
    if (cluster.stats.acked > ackedBefore) return true;
    if (cluster.now >= nextTry) {
      nextTry = cluster.now + 20;
      const leader = cluster.leader();
      if (leader) cluster.propose(leader.id);
    }
    return false;
  }, boundMs);
  if (!ok) {
    const live = cluster.liveNodes().map((n) => `${n.id}:${n.raft!.softState.role}/t${n.raft!.softState.term}`);
    cluster.checker.fail('liveness', `${when}: nothing committed within ${boundMs} ms; nodes ${live.join(' ')}${describeLeader(cluster)}`);
  }
  return cluster.now - start;
}

/** Every member of the final configuration applies the same log, holding every acknowledged write. */
export function requireConvergence(cluster: SimCluster, boundMs: number): void {
  const converged = (): boolean => {
    const leader = cluster.leader();
    if (!leader) return false;
    const conf = leader.raft!.confState();
    // Everything any node applied is committed; the leader may not know it yet right after an election.
    const commit = Math.max(leader.raft!.status().commit, cluster.checker.maxCommitted);
    for (const id of [...conf.voters, ...conf.learners]) {
      const n = cluster.node(id);
      if (!n.up || n.pending || n.sm.applied < commit) return false;
    }
    return true;
  };
  if (!cluster.runUntil(converged, boundMs)) {
    const state = cluster
      .members()
      .map((n) => `${n.id}:${n.up ? `applied ${n.sm.applied}` : 'down'}`)
      .join(' ');
    cluster.checker.fail('convergence', `members did not catch up within ${boundMs} ms after healing: ${state}${describeLeader(cluster)}`);
  }
  const leader = cluster.leader()!;
  const conf = leader.raft!.confState();
  for (const id of [...conf.voters, ...conf.learners]) {
    const n = cluster.node(id);
    for (const w of cluster.checker.acked) {
      if (!n.sm.has(w.value)) {
        cluster.checker.fail('acknowledged write lost', `${w.value} (acknowledged at ${w.index}/${w.term}) is missing on ${id}`);
      }
    }
  }
}

/** The leader's view of its followers, for liveness reports. */
function describeLeader(cluster: SimCluster): string {
  const leader = cluster.leader();
  if (!leader) return '; no leader';
  const st = leader.raft!.status();
  const prs = Object.entries(st.progress)
    .map(([id, p]) => `${id}:${p.state} match ${p.match} next ${p.next}${p.recentActive ? '' : ' inactive'}`)
    .join(', ');
  return `; leader ${leader.id} t${st.term} commit ${st.commit} last ${st.lastIndex} progress {${prs}}`;
}
