import type { MyQueueError } from '@myqueue/protocol';
import { type PartitionStatus } from '@myqueue/protocol';
import {
  ConfChangeType,
  Role,
  type ConfChange,
  type Entry,
  type GroupStorage,
  type Logger,
  type RaftNode,
  type SoftState,
} from '@myqueue/raft';
import { notLeader, timeout, toMyQueueError } from '../errors.js';
import { CommandKind, decodeCommand } from '../partition/commands.js';
import { nextSequence } from '../partition/producer-window.js';
import { SequenceGate } from '../partition/sequence-gate.js';
import type { ApplyResult, PartitionStateMachine } from '../partition/state-machine.js';

export type Acks = 'all' | 'leader';

/** What a committed entry produced: a partition command's result, or a membership change. */
export type EntryResult = ApplyResult | { readonly kind: 'conf' };

interface Pending {
  readonly term: number;
  readonly resolve: (r: EntryResult) => void;
  readonly reject: (e: MyQueueError) => void;
  readonly timer: NodeJS.Timeout;
  /** acks=leader: the answer to give as soon as the entry is durable on this leader. */
  readonly early?: ApplyResult;
}

export interface ReplicaContext {
  readonly brokerId: string;
  readonly logger: Logger;
  /** The HTTP url of a broker, when known. */
  urlOf(id: string): string | null;
  /** Asks the driver to run a ready cycle soon. */
  schedule(): void;
}

export interface HealthEntry {
  topic: string;
  partition: number;
  role: string;
  leader: string | null;
  term: number;
  commitIndex: number;
  highWatermark: number;
}

/**
 * One hosted partition replica: its Raft node, its state machine and the requests waiting on its
 * entries. The driver (raft-host.ts) persists, sends and applies; this class turns requests into
 * proposals and applied entries back into answers.
 */
export class PartitionReplica {
  readonly topic: string;
  readonly partition: number;
  readonly group: string;
  readonly sm: PartitionStateMachine;
  readonly node: RaftNode;
  readonly storage: GroupStorage;
  /** Leader-only: holds back idempotent batches that arrive ahead of their predecessor (sequence-gate.ts). */
  readonly gate: SequenceGate;
  readonly #ctx: ReplicaContext;
  readonly #pending = new Map<number, Pending>();
  /** Produce entries proposed by this leader and not applied yet: index -> record count (-1: idempotent). */
  readonly #inflight = new Map<number, number>();
  /** Index of the first entry of the current leadership term (its no-op). */
  #termStart = Number.MAX_SAFE_INTEGER;
  readonly #leaderWatchers = new Set<(s: SoftState) => void>();
  #closed = false;

  constructor(
    ctx: ReplicaContext,
    topic: string,
    partition: number,
    sm: PartitionStateMachine,
    node: RaftNode,
    storage: GroupStorage,
  ) {
    this.#ctx = ctx;
    this.topic = topic;
    this.partition = partition;
    this.group = sm.group;
    this.sm = sm;
    this.node = node;
    this.storage = storage;
    this.gate = new SequenceGate((producerId) => nextSequence(sm.producerWindow(producerId)));
  }

  get soft(): SoftState {
    return this.node.softState;
  }

  get isLeader(): boolean {
    return this.node.softState.role === Role.Leader;
  }

  /** Throws MQ_ERR_NOT_LEADER (naming the leader and its url) or MQ_ERR_NO_LEADER unless this replica leads. */
  requireLeader(): void {
    if (this.#closed) throw notLeader(this.group, null, null);
    const s = this.node.softState;
    if (s.role === Role.Leader && !this.node.status().transferee) return;
    const leader = s.leader && s.leader !== this.#ctx.brokerId ? s.leader : null;
    throw notLeader(this.group, leader, leader ? this.#ctx.urlOf(leader) : null);
  }

  /**
   * Proposes a partition command and resolves with its apply result once it is committed and applied
   * here (acks=all). With acks=leader a non-idempotent produce resolves once the entry is durable on this
   * leader, with the offsets it will get, when they can be predicted (see docs/api.md); else like acks=all.
   */
  propose(
    data: Uint8Array,
    options: { timeoutMs: number; acks?: Acks; produceCount?: number; idempotent?: boolean },
  ): Promise<ApplyResult> {
    this.requireLeader();
    let proposed: { index: number; term: number };
    try {
      proposed = this.node.propose(data);
    } catch (err) {
      throw this.#raftError(err);
    }
    let early: ApplyResult | undefined;
    if (options.produceCount !== undefined) {
      if (options.acks === 'leader' && !options.idempotent) early = this.#predict(options.produceCount);
      this.#inflight.set(proposed.index, options.idempotent ? -1 : options.produceCount);
    }
    this.#ctx.schedule();
    return this.#wait(proposed, options.timeoutMs, 'the produce', early) as Promise<ApplyResult>;
  }

  /** Proposes a membership change and resolves once it is committed and applied here. */
  async changeMembership(change: ConfChange, timeoutMs: number): Promise<void> {
    this.requireLeader();
    let proposed: { index: number; term: number };
    try {
      proposed = this.node.proposeConfChange(change);
    } catch (err) {
      throw this.#raftError(err);
    }
    this.#ctx.schedule();
    await this.#wait(proposed, timeoutMs, 'the membership change');
  }

  /** Hands leadership to `to` and resolves once it leads (or rejects after `timeoutMs`). */
  async transferLeadership(to: string, timeoutMs: number): Promise<void> {
    this.requireLeader();
    if (to === this.#ctx.brokerId) return;
    try {
      this.node.transferLeadership(to);
    } catch (err) {
      throw this.#raftError(err);
    }
    this.#ctx.schedule();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#leaderWatchers.delete(watch);
        reject(timeout(`leadership transfer to ${to}`));
      }, timeoutMs);
      const watch = (s: SoftState): void => {
        if (s.leader !== to) return;
        clearTimeout(timer);
        this.#leaderWatchers.delete(watch);
        resolve();
      };
      this.#leaderWatchers.add(watch);
    });
  }

  #predict(count: number): ApplyResult | undefined {
    if (this.sm.appliedIndex < this.#termStart) return undefined;
    let next = this.sm.nextOffset;
    for (const n of this.#inflight.values()) {
      if (n < 0) return undefined; // an idempotent batch in flight may or may not take offsets
      next += n;
    }
    return { kind: 'produce', baseOffset: next, count, duplicate: false };
  }

  #wait(
    proposed: { index: number; term: number },
    timeoutMs: number,
    what: string,
    early?: ApplyResult,
  ): Promise<EntryResult> {
    return new Promise<EntryResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(proposed.index);
        reject(timeout(what));
      }, timeoutMs);
      this.#pending.set(proposed.index, { term: proposed.term, resolve, reject, timer, ...(early ? { early } : {}) });
    });
  }

  #raftError(err: unknown): MyQueueError {
    const e = toMyQueueError(err);
    if (e.code === 'MQ_ERR_NOT_LEADER' || e.code === 'MQ_ERR_NO_LEADER') {
      const s = this.node.softState;
      const leader = s.leader && s.leader !== this.#ctx.brokerId ? s.leader : null;
      return notLeader(this.group, leader, leader ? this.#ctx.urlOf(leader) : null);
    }
    return e;
  }

  // ---- driver callbacks ----------------------------------------------------------------------

  /** Entries of this replica's log are now durable (acks=leader answers). */
  onPersisted(entries: readonly Entry[]): void {
    if (this.#pending.size === 0) return;
    for (const e of entries) {
      const p = this.#pending.get(e.index);
      if (!p?.early || p.term !== e.term) continue;
      this.#pending.delete(e.index);
      clearTimeout(p.timer);
      p.resolve(p.early);
    }
  }

  /** A committed entry was applied. */
  onApplied(entry: Entry, result: EntryResult): void {
    this.#inflight.delete(entry.index);
    if (this.gate.size > 0 && (result.kind === 'produce' || result.kind === 'rejected')) {
      const cmd = decodeCommand(entry.data);
      if (cmd.kind === CommandKind.Produce && cmd.producerId > 0) this.gate.applied(cmd.producerId);
    }
    const p = this.#pending.get(entry.index);
    if (!p) return;
    this.#pending.delete(entry.index);
    clearTimeout(p.timer);
    if (p.term === entry.term) p.resolve(result);
    else p.reject(this.#lostLeadership());
  }

  onSoftState(s: SoftState): void {
    if (s.role === Role.Leader) this.#termStart = this.node.status().lastIndex;
    else {
      this.#termStart = Number.MAX_SAFE_INTEGER;
      this.#inflight.clear();
      // The outcome of these entries is unknown: a new leader may still commit them. Idempotent
      // producers retry safely (dedup); see docs/api.md.
      if (this.#pending.size > 0) {
        const err = this.#lostLeadership();
        for (const p of this.#pending.values()) {
          clearTimeout(p.timer);
          p.reject(err);
        }
        this.#pending.clear();
      }
      this.sm.wakeWaiters();
      this.gate.release();
    }
    for (const w of [...this.#leaderWatchers]) w(s);
  }

  #lostLeadership(): MyQueueError {
    const s = this.node.softState;
    const leader = s.leader && s.leader !== this.#ctx.brokerId ? s.leader : null;
    return notLeader(this.group, leader, leader ? this.#ctx.urlOf(leader) : null);
  }

  close(): void {
    this.#closed = true;
    const err = notLeader(this.group, null, null);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
    this.sm.wakeWaiters();
    this.gate.release();
  }

  // ---- views ---------------------------------------------------------------------------------

  status(): Omit<PartitionStatus, 'status'> {
    const st = this.node.status();
    const conf = st.conf ?? this.node.confState();
    const replicas = [
      ...conf.voters.map((id) => ({ id, role: 'voter' as const })),
      ...conf.learners.map((id) => ({ id, role: 'learner' as const })),
    ].map((r) => {
      const pr = st.progress[r.id];
      return pr ? { ...r, match: pr.match, lag: Math.max(0, st.lastIndex - pr.match) } : r;
    });
    const s = st.soft;
    return {
      topic: this.topic,
      partition: this.partition,
      broker: this.#ctx.brokerId,
      role: s.role,
      leader: s.leader || null,
      term: st.term,
      commitIndex: st.commit,
      appliedIndex: this.sm.appliedIndex,
      highWatermark: this.sm.nextOffset,
      logStartOffset: this.sm.logStartOffset,
      replicas,
    };
  }

  health(): HealthEntry {
    const st = this.node.status();
    return {
      topic: this.topic,
      partition: this.partition,
      role: st.soft.role,
      leader: st.soft.leader || null,
      term: st.term,
      commitIndex: st.commit,
      highWatermark: this.sm.nextOffset,
    };
  }
}

/** The Raft change an admin membership action stands for. */
export function confChangeFor(action: 'add-learner' | 'promote' | 'remove', node: string): ConfChange {
  const type =
    action === 'add-learner'
      ? ConfChangeType.AddLearner
      : action === 'promote'
        ? ConfChangeType.AddVoter
        : ConfChangeType.RemoveNode;
  return { type, node };
}
