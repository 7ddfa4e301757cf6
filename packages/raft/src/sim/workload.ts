import type { NodeId } from '../types.js';
import { ConfChangeType } from '../types.js';
import type { SimCluster } from './cluster.js';
import { RELIABLE_NETWORK, UNRELIABLE_NETWORK } from './network.js';
import type { Prng } from './prng.js';

/** Bounds of the random membership changes: the group keeps 3..maxVoters voters and at most maxNodes members. */
export interface WorkloadOptions {
  readonly maxVoters: number;
  readonly maxMembers: number;
  /** Mean ms between client operations and between faults. */
  readonly clientEveryMs: number;
  readonly faultEveryMs: number;
  /** Whether some reads ask for a lease (the core must honour it only with Check-Quorum). */
  readonly leaseReads: boolean;
  /**
   * Figure 8 mode: most faults crash the leader a few ms after it appended a proposal, so leaders of
   * successive terms leave conflicting uncommitted tails on different minorities.
   */
  readonly leaderChurn?: boolean;
}

/**
 * The random mix of client operations (proposals, reads, snapshots, leadership transfers, membership
 * changes) and faults (crashes, partitions symmetric and not, an unreliable network) of one seed.
 * Everything is drawn from the cluster's workload PRNG, so the mix is part of the seed's replay.
 */
export class Workload {
  readonly #c: SimCluster;
  readonly #rng: Prng;
  readonly #o: WorkloadOptions;
  #clients = false;
  #faults = false;

  constructor(cluster: SimCluster, options: WorkloadOptions) {
    this.#c = cluster;
    this.#rng = cluster.rng;
    this.#o = options;
  }

  startClients(): void {
    this.#clients = true;
    this.#scheduleClient();
  }

  stopClients(): void {
    this.#clients = false;
  }

  startFaults(): void {
    this.#faults = true;
    this.#scheduleFault();
  }

  /** Ends the fault phase: every link mended, a reliable network, every crashed member restarted. */
  healAll(): void {
    this.#faults = false;
    const c = this.#c;
    c.network.heal();
    c.network.setFaults(RELIABLE_NETWORK);
    for (const n of c.members()) if (!n.up) c.restart(n.id);
    c.trace.add(c.now, 'HEAL all faults');
  }

  #scheduleClient(): void {
    const delay = this.#rng.between(1, 2 * this.#o.clientEveryMs);
    this.#c.schedule(delay, 'client op', () => {
      if (!this.#clients) return;
      this.#clientOp();
      this.#scheduleClient();
    });
  }

  #scheduleFault(): void {
    const delay = this.#rng.between(1, 2 * this.#o.faultEveryMs);
    this.#c.schedule(delay, 'fault', () => {
      if (!this.#faults) return;
      this.#fault();
      this.#scheduleFault();
    });
  }

  /** The node a client would talk to: usually the leader it heard of, sometimes anyone. */
  #target(): NodeId | undefined {
    const leader = this.#c.leader();
    if (leader && this.#rng.chance(0.9)) return leader.id;
    const live = this.#c.liveNodes();
    return live.length > 0 ? this.#rng.pick(live).id : undefined;
  }

  #clientOp(): void {
    const c = this.#c;
    const r = this.#rng.next();
    const target = this.#target();
    if (target === undefined) return;
    if (r < 0.6) {
      c.propose(target, this.#rng.chance(0.1) ? this.#rng.between(1, 300) : 0);
    } else if (r < 0.75) {
      // Any node that believes it leads, deposed ones included: they are where stale reads would come from.
      const leaders = c.leaders();
      const reader = leaders.length > 0 && this.#rng.chance(0.7) ? this.#rng.pick(leaders).id : target;
      c.read(reader, this.#o.leaseReads && this.#rng.chance(0.3));
    } else if (r < 0.81) {
      const live = c.liveNodes();
      if (live.length > 0) c.takeSnapshot(this.#rng.pick(live).id, this.#rng.pick([0, 0, 2, 10]));
    } else if (r < 0.84) {
      const leader = c.leader();
      if (!leader) return;
      const voters = leader.raft!.confState().voters.filter((v) => v !== leader.id);
      if (voters.length > 0) c.transferLeadership(leader.id, this.#rng.pick(voters));
    } else if (r < 0.89) {
      this.#membershipChange();
    }
  }

  #membershipChange(): void {
    const c = this.#c;
    const leader = c.leader();
    if (!leader) return;
    const conf = leader.raft!.confState();
    const o = this.#o;
    const choices: (() => void)[] = [];
    const members = conf.voters.length + conf.learners.length;
    if (members < o.maxMembers) {
      choices.push(() => {
        const id = c.addNode();
        const res = c.proposeConfChange(leader.id, { type: ConfChangeType.AddLearner, node: id });
        if (!res.ok) c.discardNode(id);
      });
    }
    if (conf.learners.length > 0 && conf.voters.length < o.maxVoters) {
      const learner = this.#rng.pick(conf.learners);
      choices.push(() => void c.proposeConfChange(leader.id, { type: ConfChangeType.AddVoter, node: learner }));
    }
    if (conf.voters.length > 3) {
      // Removing the leader itself is a case of its own (it must step down once the change commits).
      const victim = this.#rng.chance(0.3) ? leader.id : this.#rng.pick(conf.voters);
      choices.push(() => void c.proposeConfChange(leader.id, { type: ConfChangeType.RemoveNode, node: victim }));
    }
    if (conf.learners.length > 0) {
      const learner = this.#rng.pick(conf.learners);
      choices.push(() => void c.proposeConfChange(leader.id, { type: ConfChangeType.RemoveNode, node: learner }));
    }
    if (choices.length > 0) this.#rng.pick(choices)();
  }

  #fault(): void {
    const c = this.#c;
    const rng = this.#rng;
    const members = c.members().map((n) => n.id);
    const r = rng.next();
    if (this.#o.leaderChurn === true && r < 0.6) {
      const leader = c.leader();
      if (!leader) return;
      const id = leader.id;
      c.propose(id);
      c.schedule(rng.between(0, 4), `crash leader ${id}`, () => c.crash(id));
      c.schedule(rng.between(20, 300), `restart ${id}`, () => c.restart(id));
      return;
    }
    if (r < 0.3) {
      // Crash a node (the leader half of the time), restart it later.
      const leader = c.leader();
      const live = c.liveNodes();
      if (live.length === 0) return;
      const victim = leader && rng.chance(0.5) ? leader.id : rng.pick(live).id;
      c.crash(victim);
      c.schedule(rng.between(10, 800), `restart ${victim}`, () => c.restart(victim));
    } else if (r < 0.5) {
      // Symmetric partition into two random sides.
      const shuffled = rng.shuffle(members);
      const k = rng.between(1, Math.max(1, shuffled.length - 1));
      const a = shuffled.slice(0, k);
      const b = shuffled.slice(k);
      c.trace.add(c.now, `PARTITION [${a.join(',')}] | [${b.join(',')}]`);
      c.network.partition(a, b);
      this.#mendLater(a, b, true);
    } else if (r < 0.62) {
      // Asymmetric: a few one-way links go dark.
      const cuts: [NodeId, NodeId][] = [];
      for (let i = rng.between(1, 3); i > 0; i--) {
        const from = rng.pick(members);
        const to = rng.pick(members);
        if (from !== to) cuts.push([from, to]);
      }
      c.trace.add(c.now, `CUT one-way ${cuts.map(([f, t]) => `${f}>${t}`).join(' ')}`);
      for (const [f, t] of cuts) c.network.cut(f, t);
      c.schedule(rng.between(50, 1000), 'mend one-way cuts', () => {
        for (const [f, t] of cuts) c.network.mend(f, t);
      });
    } else if (r < 0.72) {
      // Isolate the leader: it may keep believing it leads (check-quorum should end that).
      const leader = c.leader();
      if (!leader) return;
      const others = members.filter((m) => m !== leader.id);
      c.trace.add(c.now, `ISOLATE leader ${leader.id}`);
      c.network.partition([leader.id], others);
      this.#mendLater([leader.id], others, true);
    } else if (r < 0.82) {
      const unreliable = c.network.faults === RELIABLE_NETWORK;
      c.network.setFaults(unreliable ? UNRELIABLE_NETWORK : RELIABLE_NETWORK);
      c.trace.add(c.now, `NETWORK ${unreliable ? 'unreliable' : 'reliable'}`);
    } else if (r < 0.9) {
      c.network.heal();
      c.trace.add(c.now, 'HEAL partitions');
    } else if (r < 0.95) {
      this.#restartInsideLease();
    }
  }

  /**
   * Aims at the leader lease (SIM-FINDINGS F3): the followers whose answers keep the leader's lease crash
   * and come straight back, from then on unheard by the leader, while a voter cut off from the leader
   * campaigns at once. If restarted followers forgot their promise, it wins and commits while the old
   * leader still serves lease reads (the workload sends reads to deposed leaders too).
   */
  #restartInsideLease(): void {
    const c = this.#c;
    const leader = c.leader();
    if (!leader) return;
    const voters = leader.raft!.confState().voters;
    const others = this.#rng.shuffle(voters.filter((v) => v !== leader.id && c.node(v).up));
    const [candidate, ...rest] = others;
    const restarted = rest.slice(0, Math.floor(voters.length / 2));
    if (candidate === undefined || restarted.length < Math.floor(voters.length / 2)) return;
    c.trace.add(c.now, `LEASE cut ${leader.id}|${candidate}, restart ${restarted.join(',')} unheard by ${leader.id}`);
    c.network.partition([leader.id], [candidate]);
    for (const id of restarted) {
      c.crash(id);
      c.restart(id);
      c.network.cut(id, leader.id);
    }
    c.campaign(candidate);
    // Lease reads at the old leader while its lease may still look valid to it.
    const leaseMs = c.electionTick * c.tickMs;
    for (let i = 0; i < 3; i++)
      c.schedule(this.#rng.between(1, 2 * leaseMs), 'lease read', () => void c.read(leader.id, true));
    c.schedule(this.#rng.between(50, 1000), 'mend lease cuts', () => {
      c.network.mend(leader.id, candidate);
      c.network.mend(candidate, leader.id);
      for (const id of restarted) c.network.mend(id, leader.id);
    });
  }

  #mendLater(a: readonly NodeId[], b: readonly NodeId[], both: boolean): void {
    const c = this.#c;
    c.schedule(this.#rng.between(50, 1500), 'mend partition', () => {
      for (const x of a) {
        for (const y of b) {
          c.network.mend(x, y);
          if (both) c.network.mend(y, x);
        }
      }
    });
  }
}
