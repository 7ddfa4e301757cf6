import { RaftError } from '../errors.js';
import type { RaftNodeApi } from '../node-api.js';
import type { RaftOptions } from '../options.js';
import type { GroupStorage } from '../storage.js';
import type { ConfChange, Entry, Message, NodeId, Ready, Snapshot } from '../types.js';
import { ConfChangeType, EntryType, MessageType, Role } from '../types.js';
import type { LogImage } from './durable-log.js';
import { EventQueue } from './event-queue.js';
import type { LeaderView } from './invariants.js';
import { InvariantChecker, SimViolation } from './invariants.js';
import { SimNetwork } from './network.js';
import { Prng } from './prng.js';
import type { CrashableStorage, ShadowTx } from './sim-node.js';
import { SimNode } from './sim-node.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import { decodeValue, encodeValue, ToyStateMachine } from './toy-state-machine.js';
import { describeMessage, Trace } from './trace.js';

/** Builds a Raft node; the default is the real RaftNode, tests pass deliberately broken doubles. */
export type NodeFactory = (options: RaftOptions) => RaftNodeApi;

export interface SimClusterOptions {
  readonly seed: number;
  /** Initial voters, named n1..nN. */
  readonly voters: number;
  readonly createNode: NodeFactory;
  /** A node's storage; default MemoryStorage with manual sync (writes are lost on a crash until synced). */
  readonly createStorage?: () => CrashableStorage;
  /** Probability that a crash keeps a prefix of the unsynced transactions (they reached the disk in order). Default 0.3. */
  readonly tornCrashRate?: number;
  /** Virtual milliseconds per tick. Default 10. */
  readonly tickMs?: number;
  /** Passed to every node. Defaults 10 and 1. */
  readonly electionTick?: number;
  readonly heartbeatTick?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Upper bound of a persist (fsync) delay in ms; one in 20 takes up to 10x longer. Default 3. */
  readonly persistDelayMax?: number;
  readonly maxSizePerMsg?: number;
  readonly maxInflightMsgs?: number;
  readonly snapshotChunkBytes?: number;
  /** Lines kept for a violation report. Default 200. */
  readonly traceLines?: number;
  /** Receives every trace line as it happens (--verbose). */
  readonly verbose?: (line: string) => void;
  /** Each node's application snapshots itself whenever its applied index reaches a multiple of this (MIT 3D: 10). */
  readonly autoSnapshotEvery?: number;
  /** Log entries kept behind an automatic snapshot. Default 0. */
  readonly autoSnapshotRetain?: number;
  /** Check messages against durable state (default true); off only to prove the other checks suffice. */
  readonly checkSendAfterSync?: boolean;
}

type SimEvent =
  | { readonly kind: 'tick'; readonly node: SimNode; readonly epoch: number }
  | { readonly kind: 'deliver'; readonly message: Message }
  | { readonly kind: 'persisted'; readonly node: SimNode; readonly epoch: number }
  | { readonly kind: 'call'; readonly label: string; readonly fn: () => void };

export interface SimStats {
  steps: number;
  crashes: number;
  restarts: number;
  proposals: number;
  proposalsRefused: number;
  acked: number;
  reads: number;
  readsServed: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  confChangesProposed: number;
  confChangesApplied: number;
  transfers: number;
}

export type ProposeOutcome = { ok: true; index: number; term: number; value: string } | { ok: false; error: Error };

export const GROUP = 'g';

/**
 * N Raft nodes in one process on a virtual clock. Every source of nondeterminism (network fate, persist
 * latency, each node's election randomness, workload choices) is drawn from one seeded PRNG, so a seed
 * replays bit for bit. Each node runs the ready loop: persist (with a delay, losing unsynced writes on a
 * crash), then send, apply and advance. The invariant checker runs after every step.
 */
export class SimCluster {
  readonly options: SimClusterOptions;
  readonly checker: InvariantChecker;
  readonly network: SimNetwork;
  readonly trace: Trace;
  /** The workload's random stream (separate, so workload choices don't shift network draws). */
  readonly rng: Prng;
  readonly stats: SimStats = {
    steps: 0,
    crashes: 0,
    restarts: 0,
    proposals: 0,
    proposalsRefused: 0,
    acked: 0,
    reads: 0,
    readsServed: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    confChangesProposed: 0,
    confChangesApplied: 0,
    transfers: 0,
  };
  now = 0;
  readonly #tickMs: number;
  readonly #nodes = new Map<NodeId, SimNode>();
  readonly #queue = new EventQueue<SimEvent>();
  readonly #persistRng: Prng;
  readonly #nodeRng: Prng;
  readonly #confProposals = new Map<string, ConfChange>();
  readonly #confApplied = new Set<string>();
  #nextNode: number;
  #valueSeq = 0;
  #readSeq = 0;

  constructor(options: SimClusterOptions) {
    this.options = options;
    this.#tickMs = options.tickMs ?? 10;
    const root = new Prng(options.seed);
    this.network = new SimNetwork(root.fork());
    this.#persistRng = root.fork();
    this.#nodeRng = root.fork();
    this.rng = root.fork();
    this.checker = new InvariantChecker(() => this.now);
    this.checker.checkSendAfterSync = options.checkSendAfterSync ?? true;
    this.trace = new Trace(options.traceLines ?? 200, options.verbose);
    const ids = Array.from({ length: options.voters }, (_, i) => `n${i + 1}`);
    this.#nextNode = options.voters + 1;
    for (const id of ids) {
      const node = new SimNode(id, GROUP, ids, this.#newStorage());
      this.#nodes.set(id, node);
      this.#start(node);
    }
  }

  #newStorage(): CrashableStorage {
    return this.options.createStorage?.() ?? new MemoryStorage({ sync: 'manual' });
  }

  // ---- queries

  get tickMs(): number {
    return this.#tickMs;
  }

  get electionTick(): number {
    return this.options.electionTick ?? 10;
  }

  /** Every node ever created (including crashed and removed ones). */
  get nodes(): SimNode[] {
    return [...this.#nodes.values()];
  }

  node(id: NodeId): SimNode {
    const n = this.#nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Nodes that are running now. */
  liveNodes(): SimNode[] {
    return this.nodes.filter((n) => n.up);
  }

  /** Members not removed (up or crashed). */
  members(): SimNode[] {
    return this.nodes.filter((n) => !n.removed);
  }

  /** Running nodes that believe they lead, highest term first. */
  leaders(): SimNode[] {
    return this.liveNodes()
      .filter((n) => n.raft!.softState.role === Role.Leader)
      .sort((a, b) => b.raft!.softState.term - a.raft!.softState.term);
  }

  /** The leader of the highest term among running nodes, if any. */
  leader(): SimNode | undefined {
    return this.leaders()[0];
  }

  // ---- event loop

  schedule(delay: number, label: string, fn: () => void): void {
    this.#queue.push(this.now + delay, { kind: 'call', label, fn });
  }

  /** Runs one event and checks every invariant. False when nothing is left to run. */
  step(): boolean {
    const ev = this.#queue.pop();
    if (!ev) return false;
    this.now = ev.time;
    this.stats.steps++;
    this.#guard(() => this.#handle(ev.item));
    this.#checkAll();
    return true;
  }

  /** Runs every event up to now + ms (virtual). */
  runFor(ms: number): void {
    const end = this.now + ms;
    while ((this.#queue.peekTime() ?? Infinity) <= end) this.step();
    this.now = end;
  }

  /** Runs until `done()` holds (checked after each step) or `maxMs` passed; returns whether it held. */
  runUntil(done: () => boolean, maxMs: number): boolean {
    const end = this.now + maxMs;
    if (done()) return true;
    while ((this.#queue.peekTime() ?? Infinity) <= end) {
      this.step();
      if (done()) return true;
    }
    this.now = end;
    return done();
  }

  #handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'tick': {
        if (ev.epoch !== ev.node.epoch || !ev.node.raft) return;
        ev.node.raft.tick();
        this.#queue.push(this.now + this.#tickMs, ev);
        this.#pump(ev.node);
        return;
      }
      case 'deliver': {
        const m = ev.message;
        const to = this.#nodes.get(m.to);
        if (!to?.raft || !this.network.arrives(m)) return;
        this.trace.add(this.now, `recv ${describeMessage(m)}`);
        to.raft.step(m);
        this.#checkLeaderCommit(to);
        this.#pump(to);
        return;
      }
      case 'persisted': {
        const n = ev.node;
        if (ev.epoch !== n.epoch || !n.pending) return;
        const rd = n.pending;
        this.#finish(n, rd, true);
        this.#checkLeaderCommit(n);
        this.#pump(n);
        return;
      }
      case 'call':
        this.trace.add(this.now, ev.label);
        ev.fn();
        return;
    }
  }

  /** Exceptions escaping the core are violations (expected refusals are RaftErrors, caught by callers). */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof SimViolation) throw err;
      const e = err instanceof Error ? err : new Error(String(err));
      this.checker.fail('core error', `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}`);
    }
  }

  #checkAll(): void {
    for (const n of this.#nodes.values()) {
      if (!n.raft) continue;
      const ss = n.raft.softState;
      if (ss.term < n.lastTerm) this.checker.fail('term monotonic', `${n.id} went from term ${n.lastTerm} back to ${ss.term}`);
      n.lastTerm = ss.term;
      if (ss.role === Role.Leader) this.checker.observeLeader(this.#leaderView(n));
    }
  }

  /**
   * When a leader advances its commit index, the entry there must be of its own term, and durable on a
   * majority of the voters of its configuration (both halves of a joint one): replicas count only once
   * persisted.
   */
  #checkLeaderCommit(n: SimNode): void {
    const raft = n.raft;
    if (!raft || raft.softState.role !== Role.Leader) return;
    const st = raft.status();
    if (st.term !== n.leaderTerm) {
      // A new leadership: what it learned as a follower was committed under earlier configurations.
      n.leaderTerm = st.term;
      n.checkedCommit = st.commit;
      return;
    }
    if (st.commit <= n.checkedCommit) return;
    n.checkedCommit = st.commit;
    const c = st.commit;
    if (c < n.group.firstIndex() - 1) return;
    const term = n.group.term(c);
    if (term !== st.term) {
      // Figure 8 / section 5.4.2: only entries of the leader's own term are committed by counting replicas.
      this.checker.fail('current-term commit', `${n.id} (term ${st.term}) advanced its commit to ${c}, an entry of term ${term}`);
    }
    const conf = raft.confState();
    for (const voters of [conf.voters, conf.votersOutgoing]) {
      if (voters.length === 0) continue;
      const holders = voters.filter((id) => this.#nodes.get(id)?.durable.covers(c, term) === true);
      if (holders.length <= voters.length / 2) {
        this.checker.fail(
          'commit durability',
          `${n.id} (term ${st.term}) commits ${c}/${term} but only [${holders.join(',')}] of voters [${voters.join(',')}] hold it durably`,
        );
      }
    }
  }

  #leaderView(n: SimNode): LeaderView {
    return { id: n.id, term: n.raft!.softState.term, durable: n.durable };
  }

  // ---- the ready loop

  #pump(n: SimNode): void {
    while (n.raft && !n.pending && n.raft.hasReady()) {
      const rd = n.raft.ready();
      this.#traceReady(n, rd);
      if (rd.hardState) {
        if (rd.hardState.commit < n.lastCommit) {
          this.checker.fail('commit monotonic', `${n.id} hands out commit ${rd.hardState.commit} after ${n.lastCommit}`);
        }
        n.lastCommit = rd.hardState.commit;
      }
      this.#write(n, rd.entries, (g, tx) => {
        const { snapshot, entries, hardState } = rd;
        if (snapshot) {
          g.applySnapshot(snapshot);
          tx.push((img) => img.applySnapshot(snapshot));
        }
        if (entries.length > 0) {
          g.append(entries);
          tx.push((img) => img.append(entries));
        }
        if (hardState) {
          g.setHardState(hardState);
          tx.push((img) => {
            img.hardState = hardState;
          });
        }
      });
      if (rd.mustSync) {
        n.pending = rd;
        const slow = this.#persistRng.chance(0.05);
        const max = this.options.persistDelayMax ?? 3;
        const delay = this.#persistRng.between(0, slow ? max * 10 : max);
        this.#queue.push(this.now + delay, { kind: 'persisted', node: n, epoch: n.epoch });
      } else {
        this.#finish(n, rd, false);
      }
    }
  }

  #traceReady(n: SimNode, rd: Ready): void {
    const parts: string[] = [];
    if (rd.hardState) parts.push(`hs t${rd.hardState.term} v${rd.hardState.vote || '-'} c${rd.hardState.commit}`);
    if (rd.entries.length > 0) parts.push(`ents ${rd.entries[0].index}..${rd.entries[rd.entries.length - 1].index}`);
    if (rd.snapshot) parts.push(`snap ${rd.snapshot.meta.index}/${rd.snapshot.meta.term}`);
    if (rd.committedEntries.length > 0) {
      parts.push(`apply ${rd.committedEntries[0].index}..${rd.committedEntries[rd.committedEntries.length - 1].index}`);
    }
    if (rd.messages.length > 0) parts.push(`msgs ${rd.messages.length}`);
    if (rd.softState) parts.push(`${rd.softState.role} t${rd.softState.term} leader ${rd.softState.leader || '-'}`);
    if (rd.readStates.length > 0) parts.push(`reads ${rd.readStates.length}`);
    this.trace.add(this.now, `${n.id} ready ${parts.join(', ')}${rd.mustSync ? ' (sync)' : ''}`);
  }

  #finish(n: SimNode, rd: Ready, synced: boolean): void {
    const raft = n.raft!;
    if (synced) this.#sync(n);
    this.checker.beforeSend(n.id, n.durable, rd.messages);
    for (const m of rd.messages) this.#send(n, m);
    if (rd.snapshot) this.#installSnapshot(n, rd.snapshot);
    for (const e of rd.committedEntries) this.#apply(n, e);
    for (const rs of rd.readStates) {
      const ctx = new TextDecoder().decode(rs.context);
      const r = n.reads.get(ctx);
      if (r) r.index = rs.index;
    }
    raft.advance(rd);
    n.pending = undefined;
    this.#serveReads(n);
  }

  /** One storage transaction, mirrored as a shadow transaction to replay on the durable image once synced. */
  #write(n: SimNode, entries: readonly Entry[], fn: (g: GroupStorage, tx: ((img: LogImage) => void)[]) => void): void {
    const before = n.storage.unsyncedTransactions;
    const apply: ((img: LogImage) => void)[] = [];
    n.storage.transaction(() => fn(n.group, apply));
    if (n.storage.unsyncedTransactions > before) n.unsynced.push({ apply, entries });
  }

  /** The fsync completes: what was written becomes durable, and the checker sees it. */
  #sync(n: SimNode): void {
    n.storage.sync();
    this.#makeDurable(n, n.unsynced);
    n.unsynced = [];
  }

  #makeDurable(n: SimNode, txs: readonly ShadowTx[]): void {
    for (const tx of txs) {
      const before = n.durable.hardState;
      for (const op of tx.apply) op(n.durable);
      this.checker.onHardStateDurable(n.id, before, n.durable.hardState);
      this.checker.onEntriesDurable(n.id, n.durable, tx.entries);
    }
  }

  #send(from: SimNode, m: Message): void {
    const to = this.#nodes.get(m.to);
    const deliveries = to && !to.removed ? this.network.send(m, this.now) : [];
    this.trace.add(this.now, `send ${describeMessage(m)}${deliveries.length === 0 ? ' (lost)' : ''}`);
    for (const d of deliveries) this.#queue.push(d.at, { kind: 'deliver', message: d.message });
    if (m.type === MessageType.Snap && (deliveries.length === 0 || !to?.up) && this.rng.chance(0.5)) {
      // The transport noticed the failure: tell the leader so it retries the snapshot later.
      const epoch = from.epoch;
      this.schedule(5, `${from.id} reportUnreachable ${m.to}`, () => {
        if (from.epoch === epoch && from.raft) {
          this.#guard(() => from.raft!.reportUnreachable(m.to));
          this.#pump(from);
        }
      });
    }
  }

  #installSnapshot(n: SimNode, snap: Snapshot): void {
    const sm = ToyStateMachine.restore(snap.meta.index, snap.data);
    this.checker.onSnapshotInstalled(n.id, snap, sm.values);
    n.sm = sm;
    this.stats.snapshotsInstalled++;
    for (const [index] of n.proposals) if (index <= snap.meta.index) n.proposals.delete(index);
  }

  #apply(n: SimNode, e: Entry): void {
    if (e.index !== n.sm.applied + 1) {
      this.checker.fail('apply order', `${n.id} applies ${e.index} after ${n.sm.applied}`);
    }
    const value = e.type === EntryType.Normal && e.data.length > 0 ? decodeValue(e.data) : undefined;
    const leaders = this.leaders().map((l) => this.#leaderView(l));
    this.checker.onApply(n.id, n.raft!.softState.term, e, leaders, value);
    n.sm.apply(e);
    if (e.type === EntryType.ConfChange) this.#onConfEntry(e);
    const every = this.options.autoSnapshotEvery;
    if (every !== undefined && e.index % every === 0) {
      const epoch = n.epoch;
      this.schedule(0, `${n.id} auto snapshot`, () => {
        if (n.epoch === epoch) this.takeSnapshot(n.id, this.options.autoSnapshotRetain ?? 0);
      });
    }
    const p = n.proposals.get(e.index);
    if (p) {
      n.proposals.delete(e.index);
      if (p.term === e.term && value === p.value) {
        this.checker.onAck({ value: p.value, index: e.index, term: e.term, at: this.now });
        this.stats.acked++;
      }
    }
  }

  #onConfEntry(e: Entry): void {
    const key = `${e.index}/${e.term}`;
    const change = this.#confProposals.get(key);
    if (!change || this.#confApplied.has(key)) return;
    this.#confApplied.add(key);
    this.stats.confChangesApplied++;
    if (change.type === ConfChangeType.RemoveNode) {
      const gone = this.#nodes.get(change.node);
      // Let it linger a little (as a real process would) before it is shut down for good.
      this.schedule(3 * this.#tickMs, `shutdown removed ${change.node}`, () => {
        if (gone && !gone.removed) {
          this.#stop(gone);
          gone.removed = true;
        }
      });
    }
  }

  #serveReads(n: SimNode): void {
    for (const [ctx, r] of n.reads) {
      if (r.index === undefined || r.index > n.sm.applied) continue;
      n.reads.delete(ctx);
      this.checker.checkRead(n.id, ctx, r.ackedBefore, (v) => n.sm.has(v), r.index);
      this.stats.readsServed++;
    }
  }

  // ---- node lifecycle

  #start(n: SimNode): void {
    const rnd = this.#nodeRng.fork();
    const o = this.options;
    const durable = n.durable;
    const g = n.group;
    if (
      g.lastIndex() !== durable.lastIndex ||
      g.firstIndex() !== durable.firstIndex ||
      g.snapshot().meta.index !== durable.snapshot.meta.index ||
      g.initialState().hardState.term !== durable.hardState.term ||
      g.initialState().hardState.vote !== durable.hardState.vote
    ) {
      this.checker.fail(
        'storage durability',
        `${n.id} restarts from storage [${g.firstIndex()}, ${g.lastIndex()}] snap ${g.snapshot().meta.index} ` +
          `but durable is [${durable.firstIndex}, ${durable.lastIndex}] snap ${durable.snapshot.meta.index}`,
      );
    }
    n.raft = o.createNode({
      id: n.id,
      group: GROUP,
      storage: g,
      peers: n.bootstrap,
      random: () => rnd.next(),
      electionTick: o.electionTick ?? 10,
      heartbeatTick: o.heartbeatTick ?? 1,
      preVote: o.preVote ?? true,
      checkQuorum: o.checkQuorum ?? true,
      ...(o.maxSizePerMsg !== undefined ? { maxSizePerMsg: o.maxSizePerMsg } : {}),
      ...(o.maxInflightMsgs !== undefined ? { maxInflightMsgs: o.maxInflightMsgs } : {}),
      ...(o.snapshotChunkBytes !== undefined ? { snapshotChunkBytes: o.snapshotChunkBytes } : {}),
    });
    const snap = g.snapshot();
    n.sm = ToyStateMachine.restore(snap.meta.index, snap.data);
    const term = n.raft.softState.term;
    if (term < durable.hardState.term) {
      this.checker.fail('term monotonic', `${n.id} restarts at term ${term} below its durable term ${durable.hardState.term}`);
    }
    n.lastTerm = term;
    n.lastCommit = durable.hardState.commit;
    const status = n.raft.status();
    if (status.commit < durable.hardState.commit) {
      this.checker.fail('commit monotonic', `${n.id} restarts with commit ${status.commit} below its durable commit ${durable.hardState.commit}`);
    }
    this.trace.add(this.now, `${n.id} start term ${term} commit ${status.commit} last ${status.lastIndex}`);
    const phase = this.#nodeRng.int(this.#tickMs) + 1;
    this.#queue.push(this.now + phase, { kind: 'tick', node: n, epoch: n.epoch });
    this.#pump(n);
  }

  /** Kills the process: unsynced writes are lost, except (sometimes) a prefix that reached the disk. */
  #stop(n: SimNode): void {
    n.raft = undefined;
    const keep = this.#persistRng.chance(this.options.tornCrashRate ?? 0.3) ? this.#persistRng.int(n.unsynced.length + 1) : 0;
    this.#makeDurable(n, n.unsynced.slice(0, keep));
    n.storage = n.storage.crash({ keepUnsynced: keep });
    n.group = n.storage.group(GROUP);
    n.unsynced = [];
    n.pending = undefined;
    n.epoch++;
    n.proposals.clear();
    n.reads.clear();
  }

  /** Power-loss crash: unsynced writes are lost, in-flight client requests get no answer. */
  crash(id: NodeId): void {
    const n = this.node(id);
    if (!n.up) return;
    this.trace.add(this.now, `CRASH ${id} (unsynced transactions: ${n.unsynced.length})`);
    this.#stop(n);
    this.stats.crashes++;
  }

  /** Restarts a crashed node from its durable storage. */
  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.up || n.removed) return;
    this.stats.restarts++;
    this.#guard(() => this.#start(n));
  }

  /** Creates a fresh node (no peers: it learns membership from the leader); the caller adds it. */
  addNode(): NodeId {
    const id = `n${this.#nextNode++}`;
    const n = new SimNode(id, GROUP, [], this.#newStorage());
    this.#nodes.set(id, n);
    this.trace.add(this.now, `new node ${id}`);
    this.#guard(() => this.#start(n));
    return id;
  }

  /** Shuts down for good a node that never became a member (its AddLearner was refused). */
  discardNode(id: NodeId): void {
    const n = this.node(id);
    this.#stop(n);
    n.removed = true;
  }

  // ---- client operations (each returns or records its outcome; refusals are normal)

  /** Proposes a value at `id`: a fresh unique one unless given (the MIT tests retry the same command). */
  propose(id: NodeId, padding = 0, given?: string): ProposeOutcome {
    const n = this.node(id);
    const value = given ?? `v${++this.#valueSeq}`;
    this.stats.proposals++;
    if (!n.raft) return { ok: false, error: new Error(`${id} is down`) };
    try {
      const { index, term } = n.raft.propose(encodeValue(value, padding));
      n.proposals.set(index, { value, term, at: this.now });
      this.trace.add(this.now, `${id} propose ${value} -> ${index}/${term}`);
      this.#pump(n);
      return { ok: true, index, term, value };
    } catch (err) {
      return this.#refused(err);
    }
  }

  /** Starts a ReadIndex read at `id`; it is checked when answered and applied. */
  read(id: NodeId, lease = false): boolean {
    const n = this.node(id);
    if (!n.raft) return false;
    const ctx = `r${++this.#readSeq}`;
    this.stats.reads++;
    try {
      n.raft.readIndex(new TextEncoder().encode(ctx), lease ? { lease: true } : undefined);
    } catch (err) {
      this.#refused(err);
      return false;
    }
    n.reads.set(ctx, { ackedBefore: this.checker.acked.length, at: this.now });
    this.trace.add(this.now, `${id} read ${ctx}${lease ? ' (lease)' : ''}`);
    this.#pump(n);
    return true;
  }

  proposeConfChange(id: NodeId, change: ConfChange): ProposeOutcome {
    const n = this.node(id);
    if (!n.raft) return { ok: false, error: new Error(`${id} is down`) };
    try {
      const { index, term } = n.raft.proposeConfChange(change);
      this.#confProposals.set(`${index}/${term}`, change);
      this.stats.confChangesProposed++;
      this.trace.add(this.now, `${id} conf ${ConfChangeType[change.type]} ${change.node} -> ${index}/${term}`);
      this.#pump(n);
      return { ok: true, index, term, value: '' };
    } catch (err) {
      return this.#refused(err);
    }
  }

  transferLeadership(id: NodeId, to: NodeId): boolean {
    const n = this.node(id);
    if (!n.raft) return false;
    try {
      n.raft.transferLeadership(to);
    } catch (err) {
      this.#refused(err);
      return false;
    }
    this.stats.transfers++;
    this.trace.add(this.now, `${id} transfer leadership to ${to}`);
    this.#pump(n);
    return true;
  }

  /** Starts an election at `id` now. */
  campaign(id: NodeId): void {
    const n = this.node(id);
    if (!n.raft) return;
    this.#guard(() => n.raft!.campaign());
    this.#pump(n);
  }

  /** The application at `id` snapshots its state at its applied index and compacts the log. */
  takeSnapshot(id: NodeId, retain: number): boolean {
    const n = this.node(id);
    if (!n.raft) return false;
    const index = n.sm.applied;
    if (index <= n.group.snapshot().meta.index) return false;
    this.#guard(() => {
      const snap: Snapshot = { meta: n.raft!.snapshotMeta(index), data: n.sm.serialize() };
      this.#write(n, [], (g, tx) => {
        g.createSnapshot(snap, retain);
        tx.push((img) => img.createSnapshot(snap, retain));
      });
      this.#sync(n);
      n.raft!.snapshotTaken(snap);
    });
    this.stats.snapshotsTaken++;
    this.trace.add(this.now, `${id} snapshot at ${index} (retain ${retain})`);
    this.#pump(n);
    return true;
  }

  #refused(err: unknown): ProposeOutcome {
    if (!(err instanceof RaftError)) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.checker.fail('core error', `unexpected ${e.name}: ${e.message}`);
    }
    this.stats.proposalsRefused++;
    return { ok: false, error: err };
  }

  /** The value committed at `index` (as applied by any node), if any. */
  committedValue(index: number): { term: number; hash: number } | undefined {
    return this.checker.committedAt(index);
  }
}
