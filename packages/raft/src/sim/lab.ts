import type { NodeFactory, ProposeOutcome, SimClusterOptions } from './cluster.js';
import { SimCluster } from './cluster.js';
import type { NetworkFaults } from './network.js';
import { RELIABLE_NETWORK, UNRELIABLE_NETWORK } from './network.js';
import { Role } from '../types.js';

/** MIT's RaftElectionTimeout: how long the tests allow for an election (virtual ms; our timeout is 100-200 ms). */
export const ELECTION_WAIT = 1000;

/** MIT 6.5840 lab 3D: the service snapshots every 10 applied entries. */
export const SNAPSHOT_INTERVAL = 10;

/** The unreliable network with MIT's "long reordering" (some messages arrive 200-2200 ms late). */
export const LONG_REORDERING_NETWORK: NetworkFaults = Object.freeze({ ...UNRELIABLE_NETWORK, longDelayRate: 0.1, longDelayMax: 2000 });

export class LabFailure extends Error {
  override readonly name = 'LabFailure';
}

export interface LabOptions {
  readonly servers: number;
  readonly createNode: NodeFactory;
  readonly seed?: number;
  readonly unreliable?: boolean;
  /** Snapshot every SNAPSHOT_INTERVAL applied entries (the 3D tests). */
  readonly snapshots?: boolean;
  readonly cluster?: Partial<SimClusterOptions>;
}

/**
 * The MIT 6.5840 Raft lab tester (config.go) on the simulator: servers are addressed by index 0..n-1 as
 * in the lab, "sleep" advances virtual time, and the helpers keep the lab's names and contracts
 * (checkOneLeader, checkTerms, checkNoLeader, nCommitted, one, wait). Failures throw LabFailure; every
 * Raft invariant is checked underneath after every step.
 */
export class Lab {
  readonly c: SimCluster;
  readonly n: number;
  readonly connected: boolean[];
  /** Highest index each server was ever seen to apply (the lab's per-server apply logs survive crashes). */
  readonly #maxApplied: number[];

  constructor(options: LabOptions) {
    this.n = options.servers;
    this.c = new SimCluster({
      seed: options.seed ?? 1,
      voters: options.servers,
      createNode: options.createNode,
      ...(options.snapshots ? { autoSnapshotEvery: SNAPSHOT_INTERVAL } : {}),
      ...options.cluster,
    });
    this.connected = new Array<boolean>(this.n).fill(true);
    this.#maxApplied = new Array<number>(this.n).fill(0);
    this.setUnreliable(options.unreliable ?? false);
  }

  id(i: number): string {
    return `n${i + 1}`;
  }

  /** Advances virtual time (the lab's time.Sleep). */
  sleep(ms: number): void {
    this.c.runFor(ms);
  }

  /** A random integer in [0, n) from the seed's workload stream (the lab's rand.Int()). */
  rand(n = 1_000_000_000): number {
    return this.c.rng.int(n);
  }

  setUnreliable(unreliable: boolean): void {
    this.c.network.setFaults(unreliable ? UNRELIABLE_NETWORK : RELIABLE_NETWORK);
  }

  setLongReordering(): void {
    this.c.network.setFaults(LONG_REORDERING_NETWORK);
  }

  disconnect(i: number): void {
    this.connected[i] = false;
    this.#applyLinks();
  }

  connect(i: number): void {
    this.connected[i] = true;
    this.#applyLinks();
  }

  #applyLinks(): void {
    const net = this.c.network;
    for (let a = 0; a < this.n; a++) {
      for (let b = 0; b < this.n; b++) {
        if (a === b) continue;
        if (this.connected[a] && this.connected[b]) net.mend(this.id(a), this.id(b));
        else net.cut(this.id(a), this.id(b));
      }
    }
  }

  /** Kills server i (unsynced writes are lost) and disconnects it, as the lab's crash1. */
  crash1(i: number): void {
    this.#noteApplied();
    this.disconnect(i);
    this.c.crash(this.id(i));
  }

  /** Restarts server i from its persisted state (it stays disconnected until connect(i)), as start1. */
  start1(i: number): void {
    const id = this.id(i);
    if (this.c.node(id).up) this.crash1(i);
    this.c.restart(id);
  }

  isUp(i: number): boolean {
    return this.c.node(this.id(i)).up;
  }

  /** The lab's rf.Start(cmd): proposes at server i; ok is false unless it believes it leads. */
  start(i: number, value?: string, padding = 0): ProposeOutcome {
    return this.c.propose(this.id(i), padding, value);
  }

  term(i: number): number {
    return this.c.node(this.id(i)).raft?.softState.term ?? -1;
  }

  isLeader(i: number): boolean {
    return this.c.node(this.id(i)).raft?.softState.role === Role.Leader;
  }

  /** Exactly one connected server leads in the newest term that has a leader; returns it. */
  checkOneLeader(): number {
    for (let iter = 0; iter < 10; iter++) {
      this.sleep(450 + this.rand(100));
      const byTerm = new Map<number, number[]>();
      for (let i = 0; i < this.n; i++) {
        if (this.connected[i] && this.isLeader(i)) {
          const t = this.term(i);
          byTerm.set(t, [...(byTerm.get(t) ?? []), i]);
        }
      }
      let last = -1;
      for (const [t, ls] of byTerm) {
        if (ls.length > 1) throw new LabFailure(`term ${t} has ${ls.length} (>1) leaders`);
        last = Math.max(last, t);
      }
      if (last >= 0) return byTerm.get(last)![0];
    }
    throw new LabFailure('expected one leader, got none');
  }

  /** Every connected server agrees on the term; returns it. */
  checkTerms(): number {
    let term = -1;
    for (let i = 0; i < this.n; i++) {
      if (!this.connected[i] || !this.isUp(i)) continue;
      const t = this.term(i);
      if (term === -1) term = t;
      else if (t !== term) throw new LabFailure(`servers disagree on term (${term} vs ${t})`);
    }
    return term;
  }

  /** No connected server believes it leads. */
  checkNoLeader(): void {
    for (let i = 0; i < this.n; i++) {
      if (this.connected[i] && this.isLeader(i)) throw new LabFailure(`expected no leader among connected servers, but ${i} claims to be leader`);
    }
  }

  #noteApplied(): void {
    for (let i = 0; i < this.n; i++) {
      const n = this.c.node(this.id(i));
      if (n.up) this.#maxApplied[i] = Math.max(this.#maxApplied[i], n.sm.applied);
    }
  }

  /** How many servers applied `index`, and the value committed there. */
  nCommitted(index: number): { count: number; value: string | undefined } {
    this.#noteApplied();
    let count = 0;
    for (let i = 0; i < this.n; i++) if (this.#maxApplied[i] >= index) count++;
    return { count, value: count > 0 ? this.c.checker.committedAt(index)?.value : undefined };
  }

  /**
   * The lab's one(): proposes `value` at whichever server accepts (trying each in turn) and waits for at
   * least `expected` servers to apply it at that index; retries for 10 s. Returns the index.
   */
  one(value: string, expected: number, retry: boolean, padding = 0): number {
    const t0 = this.c.now;
    let startsAt = 0;
    while (this.c.now - t0 < 10_000) {
      let index = -1;
      for (let k = 0; k < this.n; k++) {
        startsAt = (startsAt + 1) % this.n;
        if (!this.connected[startsAt] || !this.isUp(startsAt)) continue;
        const r = this.start(startsAt, value, padding);
        if (r.ok) {
          index = r.index;
          break;
        }
      }
      if (index !== -1) {
        const t1 = this.c.now;
        while (this.c.now - t1 < 2000) {
          const { count, value: got } = this.nCommitted(index);
          if (count > 0 && count >= expected && got === value) return index;
          this.sleep(20);
        }
        if (!retry) throw new LabFailure(`one(${value}) failed to reach agreement`);
      } else {
        this.sleep(50);
      }
    }
    throw new LabFailure(`one(${value}) failed to reach agreement within 10 s`);
  }

  /** The lab's wait(): until `n` servers applied `index`; -1 if some server moved past `startTerm`. */
  wait(index: number, n: number, startTerm: number): string | -1 {
    let to = 10;
    for (let iters = 0; iters < 30; iters++) {
      const { count } = this.nCommitted(index);
      if (count >= n) break;
      this.sleep(to);
      if (to < 1000) to *= 2;
      if (startTerm > -1) {
        for (let i = 0; i < this.n; i++) if (this.isUp(i) && this.term(i) > startTerm) return -1;
      }
    }
    const { count, value } = this.nCommitted(index);
    if (count < n) throw new LabFailure(`only ${count} decided for index ${index}; wanted ${n}`);
    return value ?? '';
  }

  /** Messages sent so far (a message and its reply are two; the lab counts RPCs, i.e. pairs). */
  get messages(): number {
    return this.c.network.stats.sent;
  }

  /** Bytes of entry data carried by App messages so far (the lab's bytesTotal, for RPC bytes). */
  get entryBytes(): number {
    return this.c.network.stats.entryBytes;
  }

  /** Largest number of log entries any server keeps (the lab's LogSize bound for 3D). */
  maxLogEntries(): number {
    let max = 0;
    for (const node of this.c.nodes) {
      if (!node.up) continue;
      max = Math.max(max, node.group.lastIndex() - node.group.firstIndex() + 1);
    }
    return max;
  }

  /** Restarts and reconnects every server (end of the churn and Figure 8 tests). */
  reviveAll(): void {
    for (let i = 0; i < this.n; i++) {
      if (!this.isUp(i)) this.start1(i);
      this.connect(i);
    }
  }
}
