/**
 * MultiRaft: runs many Raft groups (a broker's partitions) on one node over one storage and one transport.
 *
 * The ready loop is batched per event-loop cycle (group commit, see docs/raft.md "Driver and group commit"):
 * inputs (tick, step, propose, ...) only mark a group busy and schedule one processing pass; the pass
 *   1. collects the Ready of every busy group;
 *   2. in ONE storage transaction persists every Ready (snapshot, entries, hard state) and applies the
 *      committed entries to each group's StateMachine, so the application's writes share the fsync;
 *   3. after the commit, sends every group's messages (a peer never sees state that is not durable);
 *   4. advances every node, settles proposals and reads, reports role/leader changes, takes snapshots.
 * The core never does I/O; this file is where durability and ordering are decided.
 */
import { NotLeaderError, ProposalDroppedError } from './errors.js';
import { GroupExistsError, GroupStoppedError, OutcomeUnknownError, UnknownGroupError } from './driver-errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { RaftNodeApi, RaftStatus } from './node-api.js';
import type { RaftOptions } from './options.js';
import { RaftNode } from './raft-node.js';
import type { ApplyResult, StateMachine } from './state-machine.js';
import type { GroupStorage, RaftStorage } from './storage.js';
import type { Ticker } from './ticker.js';
import { intervalTicker } from './ticker.js';
import type { Transport } from './transport.js';
import type { ConfChange, GroupId, Message, NodeId, Ready, Snapshot, SoftState } from './types.js';
import { Role } from './types.js';

/** Raft options shared by every group (the driver fills in id, group, storage, peers, random, applied). */
export type GroupRaftOptions = Partial<Omit<RaftOptions, 'id' | 'group' | 'storage' | 'peers' | 'random' | 'applied'>>;

export interface MultiRaftOptions {
  /** This node's id in every group it hosts (a broker id). */
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly transport: Transport;
  /** Source of ticks. Default: intervalTicker(100 ms). Tests pass a ManualTicker. */
  readonly ticker?: Ticker;
  /** Randomness for election timeouts. Default Math.random; seed it in tests. */
  readonly random?: () => number;
  /** Raft options for every group; addGroup can override them per group. */
  readonly raft?: GroupRaftOptions;
  /** Take a snapshot once this many entries were applied since the last one; 0 never. Default 10 000. */
  readonly snapshotEntries?: number;
  /** Entries kept behind a snapshot so a follower slightly behind catches up from the log. Default 1 000. */
  readonly snapshotRetain?: number;
  /** Schedules a processing pass. Default setImmediate (one pass per event-loop cycle). */
  readonly schedule?: (fn: () => void) => void;
  /** Builds a group's node. Default `new RaftNode(options)`. */
  readonly createNode?: (options: RaftOptions) => RaftNodeApi;
  /** A message for a group this node does not run (e.g. it is being added to it). Default: dropped. */
  readonly onUnknownGroup?: (message: Message) => void;
  /** Storage or a state machine failed: the driver stopped (Raft cannot go on without durable writes). */
  readonly onFatal?: (error: unknown) => void;
  readonly logger?: Logger;
}

export const DEFAULT_SNAPSHOT_ENTRIES = 10_000;
export const DEFAULT_SNAPSHOT_RETAIN = 1_000;

type ResolvedMultiRaftOptions = Readonly<
  Required<Omit<MultiRaftOptions, 'onUnknownGroup' | 'onFatal'>> & Pick<MultiRaftOptions, 'onUnknownGroup' | 'onFatal'>
>;

/** Fills in the documented defaults and freezes the result. */
export function multiRaftDefaults(options: MultiRaftOptions): ResolvedMultiRaftOptions {
  const resolved = {
    ticker: options.ticker ?? intervalTicker(),
    random: Math.random,
    raft: {},
    snapshotEntries: DEFAULT_SNAPSHOT_ENTRIES,
    snapshotRetain: DEFAULT_SNAPSHOT_RETAIN,
    schedule: (fn: () => void) => void setImmediate(fn),
    createNode: (o: RaftOptions) => new RaftNode(o),
    logger: silentLogger,
    ...options,
  };
  if (resolved.snapshotEntries < 0 || resolved.snapshotRetain < 0)
    throw new RangeError('snapshotEntries and snapshotRetain must be >= 0');
  return Object.freeze(resolved);
}

export interface AddGroupOptions<R = unknown> {
  /**
   * Voters of a brand-new group (every initial member passes the same list). Omit, or pass `join: true`,
   * when this node is being added to a running group: it then waits for the leader to reach it.
   * Ignored when storage already holds the group (a restart).
   */
  readonly peers?: readonly NodeId[];
  readonly join?: boolean;
  readonly stateMachine: StateMachine<R>;
  /** Overrides of the driver-wide Raft options for this group. */
  readonly raft?: GroupRaftOptions;
}

/** Counters of a MultiRaft since it started (see `MultiRaft.stats()`). */
export interface MultiRaftStats {
  /** Processing passes that had at least one Ready. */
  readonly passes: number;
  /** Storage transactions committed with an fsync, and without one (nothing had to be durable). */
  readonly syncedCommits: number;
  readonly unsyncedCommits: number;
  readonly entriesPersisted: number;
  readonly entriesApplied: number;
  readonly messagesSent: number;
  readonly snapshotsTaken: number;
  readonly snapshotsInstalled: number;
}

/** Role or leader of a group changed (the broker reports the groups it leads). */
export type SoftStateListener = (group: GroupId, state: SoftState) => void;

interface Pending {
  readonly term: number;
  resolve(result: ApplyResult): void;
  reject(error: unknown): void;
}

interface PendingRead {
  /** Set once the leader answered; the read resolves when the group applied this far. */
  index?: number;
  resolve(index: number): void;
  reject(error: unknown): void;
}

interface GroupRuntime {
  readonly id: GroupId;
  readonly node: RaftNodeApi;
  readonly storage: GroupStorage;
  readonly sm: StateMachine;
  /** Last index applied to the state machine. */
  applied: number;
  /** Index of the latest snapshot in storage. */
  snapshotIndex: number;
  /** Proposals by log index. */
  readonly proposals: Map<number, Pending>;
  /** ReadIndex requests by context (a per-driver counter). */
  readonly reads: Map<string, PendingRead>;
  stopped: boolean;
}

/**
 * Runs many Raft groups on one node with group commit.
 *
 *   const raft = new MultiRaft({ id: 'b1', storage: new SqliteStorage(file), transport });
 *   raft.addGroup('orders/0', { peers: ['b1', 'b2', 'b3'], stateMachine: partition });
 *   const { index, result } = await raft.propose('orders/0', batchBytes);
 */
export class MultiRaft {
  readonly id: NodeId;
  readonly #o: ResolvedMultiRaftOptions;
  readonly #groups = new Map<GroupId, GroupRuntime>();
  /** Groups that may have a Ready. */
  readonly #busy = new Set<GroupRuntime>();
  readonly #listeners = new Set<SoftStateListener>();
  #scheduled = false;
  #readSeq = 0;
  #closed = false;
  #failure: unknown;
  readonly #stats = {
    passes: 0,
    syncedCommits: 0,
    unsyncedCommits: 0,
    entriesPersisted: 0,
    entriesApplied: 0,
    messagesSent: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
  };

  constructor(options: MultiRaftOptions) {
    this.#o = multiRaftDefaults(options);
    this.id = options.id;
    this.#o.transport.onMessage((m) => this.step(m));
    this.#o.ticker.start(() => this.tick());
  }

  /** Starts running a group: restores the state machine from the latest snapshot if it is behind it. */
  addGroup<R>(group: GroupId, options: AddGroupOptions<R>): void {
    this.#checkRunning();
    if (this.#groups.has(group)) throw new GroupExistsError(group);
    if (options.join && options.peers && options.peers.length > 0)
      throw new RangeError('addGroup: pass peers to bootstrap or join: true, not both');
    const storage = this.#o.storage.group(group);
    const sm = options.stateMachine as StateMachine;
    const snapshot = storage.snapshot();
    let applied = sm.appliedIndex();
    if (applied < snapshot.meta.index) {
      sm.restore(snapshot);
      applied = snapshot.meta.index;
    }
    const node = this.#o.createNode({
      ...this.#o.raft,
      ...options.raft,
      logger: options.raft?.logger ?? this.#o.raft.logger ?? this.#o.logger,
      id: this.id,
      group,
      storage,
      peers: options.join ? [] : (options.peers ?? []),
      random: this.#o.random,
      applied,
    });
    const g: GroupRuntime = {
      id: group,
      node,
      storage,
      sm,
      applied,
      snapshotIndex: snapshot.meta.index,
      proposals: new Map(),
      reads: new Map(),
      stopped: false,
    };
    this.#groups.set(group, g);
    this.#o.logger.info({ group, node: this.id, applied, snapshot: snapshot.meta.index }, 'raft: group started');
    this.#markBusy(g);
  }

  /**
   * Stops running a group; waiting proposals and reads fail with GroupStoppedError. With `purge`, its
   * storage is deleted too (its replica left this node); without, it can be added again later.
   */
  removeGroup(group: GroupId, options: { purge?: boolean } = {}): void {
    const g = this.#groups.get(group);
    if (g) {
      this.#stopGroup(g, new GroupStoppedError(group, 'removed from this node'));
      this.#groups.delete(group);
      this.#busy.delete(g);
    }
    if (options.purge && !this.#closed) this.#o.storage.dropGroup(group);
  }

  /** The groups running here. */
  groups(): GroupId[] {
    return [...this.#groups.keys()];
  }

  hasGroup(group: GroupId): boolean {
    return this.#groups.has(group);
  }

  /** Routes a message from a peer to its group (the transport calls this). */
  step(message: Message): void {
    if (this.#closed || this.#failure !== undefined) return;
    const g = this.#groups.get(message.group);
    if (!g) {
      this.#o.onUnknownGroup?.(message);
      return;
    }
    try {
      g.node.step(message);
    } catch (error) {
      this.#o.logger.error(
        { group: g.id, node: this.id, err: error, type: message.type, from: message.from },
        'raft: step failed',
      );
      return;
    }
    this.#markBusy(g);
  }

  /** Advances every group by one tick (the ticker calls this). */
  tick(): void {
    if (this.#closed || this.#failure !== undefined) return;
    for (const g of this.#groups.values()) {
      g.node.tick();
      this.#busy.add(g);
    }
    this.#schedule();
  }

  /**
   * Proposes `data` as a new entry of `group`. Resolves once the entry is committed and applied here, with
   * what the state machine returned for it. Rejects with NotLeaderError (naming the leader if known),
   * TransferInProgressError or ProposalDroppedError (then it was not committed), OutcomeUnknownError or
   * GroupStoppedError (then it may have been).
   */
  propose<R = unknown>(group: GroupId, data: Uint8Array): Promise<ApplyResult<R>> {
    return this.#track(group, (node) => node.propose(data)) as Promise<ApplyResult<R>>;
  }

  /** Proposes a membership change; resolves once it is committed and applied here. */
  proposeConfChange(group: GroupId, change: ConfChange): Promise<ApplyResult> {
    return this.#track(group, (node) => node.proposeConfChange(change));
  }

  /**
   * Linearizable read barrier: resolves with an index once this node confirmed it leads `group` and has
   * applied at least that index, so reading the state machine now observes every write acknowledged
   * before the call. `lease` skips the heartbeat round while the leader lease holds (needs check-quorum).
   * Rejects with NotLeaderError when this node does not lead (or stops leading before answering).
   */
  readIndex(group: GroupId, options: { lease?: boolean } = {}): Promise<number> {
    try {
      const g = this.#group(group);
      const key = String(++this.#readSeq);
      const context = new TextEncoder().encode(key);
      g.node.readIndex(context, options);
      this.#markBusy(g);
      return new Promise((resolve, reject) => g.reads.set(key, { resolve, reject }));
    } catch (error) {
      return rejected(error);
    }
  }

  /** Asks the leader of `group` (this node) to hand leadership to `to`; the listeners see the change. */
  transferLeadership(group: GroupId, to: NodeId): void {
    const g = this.#group(group);
    g.node.transferLeadership(to);
    this.#markBusy(g);
  }

  /** Starts an election in `group` now (tests, operator tools). */
  campaign(group: GroupId): void {
    const g = this.#group(group);
    g.node.campaign();
    this.#markBusy(g);
  }

  /** The leader's view of a group (term, commit, applied, follower progress...). */
  status(group: GroupId): RaftStatus {
    return this.#group(group).node.status();
  }

  /** Role and leader of a group as this node knows them. */
  softState(group: GroupId): SoftState {
    return this.#group(group).node.softState;
  }

  /** Subscribes to role/leader changes of every group; returns the unsubscribe function. */
  onSoftState(listener: SoftStateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Processing passes run so far (for tests and metrics: many proposals share one pass). */
  get passes(): number {
    return this.#stats.passes;
  }

  /** Counters since start, for metrics: entries per pass and per fsync show how well group commit works. */
  stats(): MultiRaftStats {
    return { ...this.#stats };
  }

  /**
   * Stops the ticker and every group; waiting requests fail with GroupStoppedError. Storage and transport
   * belong to the caller, who closes them afterwards.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.ticker.stop();
    for (const g of this.#groups.values()) this.#stopGroup(g, new GroupStoppedError(g.id, 'the node is shutting down'));
    this.#groups.clear();
    this.#busy.clear();
  }

  // ---- the ready loop ----------------------------------------------------------------------------

  #markBusy(g: GroupRuntime): void {
    this.#busy.add(g);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    this.#o.schedule(() => this.#process());
  }

  #process(): void {
    this.#scheduled = false;
    if (this.#closed || this.#failure !== undefined) return;
    const batch: { g: GroupRuntime; rd: Ready }[] = [];
    for (const g of this.#busy) if (!g.stopped && g.node.hasReady()) batch.push({ g, rd: g.node.ready() });
    this.#busy.clear();
    if (batch.length === 0) return;
    this.#stats.passes++;
    const settle: (() => void)[] = [];
    try {
      // Only term, vote, entries and snapshots must be on disk before messages leave; a pass that just
      // moves commit indexes and applies entries commits without an fsync (recovered from the log), and
      // one with nothing to write (heartbeats, read confirmations) opens no transaction at all.
      const sync = batch.some(({ rd }) => rd.mustSync);
      const writes = batch.some(
        ({ rd }) => rd.hardState || rd.snapshot || rd.entries.length > 0 || rd.committedEntries.length > 0,
      );
      if (writes) {
        this.#o.storage.transaction(
          () => {
            for (const { g, rd } of batch) this.#persistAndApply(g, rd, settle);
          },
          { sync },
        );
        if (sync) this.#stats.syncedCommits++;
        else this.#stats.unsyncedCommits++;
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    const messages: Message[] = [];
    for (const { rd } of batch) for (const m of rd.messages) messages.push(m);
    if (messages.length > 0) {
      this.#stats.messagesSent += messages.length;
      try {
        this.#o.transport.send(messages);
      } catch (error) {
        // Raft tolerates lost messages; a transport should not throw, but never let it stop the loop.
        this.#o.logger.warn({ node: this.id, err: error }, 'raft: transport.send threw; messages dropped');
      }
    }
    for (const { g, rd } of batch) {
      g.node.advance(rd);
      this.#busy.add(g);
      for (const rs of rd.readStates) {
        const read = g.reads.get(new TextDecoder().decode(rs.context));
        if (read) read.index = rs.index;
      }
      if (rd.softState) this.#roleChanged(g, rd.softState);
    }
    for (const fn of settle) fn();
    for (const { g } of batch) {
      // A listener may have removed (even purged) a group, or closed the driver, during this pass.
      if (g.stopped || this.#failure !== undefined) continue;
      this.#settleReads(g);
      this.#maybeSnapshot(g);
    }
    this.#schedule();
  }

  /** Step 2 for one group, inside the shared transaction. */
  #persistAndApply(g: GroupRuntime, rd: Ready, settle: (() => void)[]): void {
    if (rd.snapshot) g.storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      g.storage.append(rd.entries);
      this.#stats.entriesPersisted += rd.entries.length;
    }
    if (rd.hardState) g.storage.setHardState(rd.hardState);
    if (rd.snapshot) this.#restore(g, rd.snapshot, settle);
    const entries = rd.committedEntries;
    if (entries.length === 0) return;
    const results = g.sm.apply(entries);
    if (results.length !== entries.length) {
      throw new Error(`state machine of ${g.id} returned ${results.length} results for ${entries.length} entries`);
    }
    for (let i = 0; i < entries.length; i++) {
      const { index, term } = entries[i];
      const p = g.proposals.get(index);
      if (!p) continue;
      g.proposals.delete(index);
      const result = results[i];
      if (p.term === term) settle.push(() => p.resolve({ index, term, result }));
      else
        settle.push(() =>
          p.reject(new ProposalDroppedError(`entry ${index} was replaced by a leader of term ${term}`)),
        );
    }
    g.applied = entries[entries.length - 1].index;
    this.#stats.entriesApplied += entries.length;
  }

  /** A leader's snapshot replaces the state; proposals it swallowed have an unknown outcome. */
  #restore(g: GroupRuntime, snapshot: Snapshot, settle: (() => void)[]): void {
    g.sm.restore(snapshot);
    g.applied = g.snapshotIndex = snapshot.meta.index;
    this.#stats.snapshotsInstalled++;
    for (const [index, p] of g.proposals) {
      if (index > snapshot.meta.index) continue;
      g.proposals.delete(index);
      settle.push(() => p.reject(new OutcomeUnknownError(g.id, index)));
    }
  }

  #roleChanged(g: GroupRuntime, state: SoftState): void {
    this.#o.logger.info(
      { group: g.id, node: this.id, role: state.role, leader: state.leader, term: state.term },
      'raft: role changed',
    );
    if (state.role !== Role.Leader) {
      // A read the leader has not confirmed yet never will be here; confirmed ones stay valid and
      // resolve once applied reaches their index.
      for (const [key, read] of g.reads) {
        if (read.index !== undefined) continue;
        g.reads.delete(key);
        read.reject(new NotLeaderError(state.leader));
      }
    }
    for (const listener of this.#listeners) {
      try {
        listener(g.id, state);
      } catch (error) {
        this.#o.logger.error({ group: g.id, node: this.id, err: error }, 'raft: soft state listener threw');
      }
    }
  }

  #settleReads(g: GroupRuntime): void {
    for (const [key, read] of g.reads) {
      if (read.index === undefined || read.index > g.applied) continue;
      g.reads.delete(key);
      read.resolve(read.index);
    }
  }

  /** Compacts the log once enough entries were applied since the last snapshot. */
  #maybeSnapshot(g: GroupRuntime): void {
    const every = this.#o.snapshotEntries;
    if (every === 0 || g.applied - g.snapshotIndex < every) return;
    try {
      const snapshot = { meta: g.node.snapshotMeta(g.applied), data: g.sm.snapshot() };
      this.#o.storage.transaction(() => g.storage.createSnapshot(snapshot, this.#o.snapshotRetain));
      g.node.snapshotTaken(snapshot);
      g.snapshotIndex = snapshot.meta.index;
      this.#stats.snapshotsTaken++;
      this.#o.logger.debug(
        { group: g.id, node: this.id, index: snapshot.meta.index, bytes: snapshot.data.byteLength },
        'raft: snapshot taken',
      );
    } catch (error) {
      this.#fail(error);
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------

  #track(group: GroupId, start: (node: RaftNodeApi) => { index: number; term: number }): Promise<ApplyResult> {
    try {
      const g = this.#group(group);
      const { index, term } = start(g.node);
      this.#markBusy(g);
      // Our log now holds a newer entry at this index: the one proposed there before was truncated, and
      // so never committed (a committed entry is in every later leader's log at its index).
      const replaced = g.proposals.get(index);
      replaced?.reject(new ProposalDroppedError(`entry ${index} was replaced by a leader of term ${term}`));
      return new Promise((resolve, reject) => g.proposals.set(index, { term, resolve, reject }));
    } catch (error) {
      return rejected(error);
    }
  }

  #group(group: GroupId): GroupRuntime {
    this.#checkRunning();
    const g = this.#groups.get(group);
    if (!g) throw new UnknownGroupError(group);
    return g;
  }

  #checkRunning(): void {
    if (this.#failure !== undefined)
      throw new GroupStoppedError('*', 'the raft driver failed', { cause: this.#failure });
    if (this.#closed) throw new GroupStoppedError('*', 'the raft driver is closed');
  }

  #stopGroup(g: GroupRuntime, error: GroupStoppedError): void {
    g.stopped = true;
    for (const p of g.proposals.values()) p.reject(error);
    for (const r of g.reads.values()) r.reject(error);
    g.proposals.clear();
    g.reads.clear();
  }

  /** Durable writes failed: Raft cannot go on (a node must never forget what it acknowledged). */
  #fail(error: unknown): void {
    this.#failure = error;
    this.#o.logger.error({ node: this.id, err: error }, 'raft: storage or state machine failed; driver stopped');
    this.#o.ticker.stop();
    for (const g of this.#groups.values())
      this.#stopGroup(g, new GroupStoppedError(g.id, 'the raft driver failed', { cause: error }));
    this.#o.onFatal?.(error);
  }
}

function rejected(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(String(error)));
}
