import type { Logger } from './logger.js';
import { isVoter, members } from './membership.js';
import type { ResolvedRaftOptions } from './options.js';
import { Progress } from './progress.js';
import { hasQuorum } from './quorum.js';
import type { RaftLog } from './raft-log.js';
import { entrySize } from './raft-log.js';
import type { ConfState, Entry, Message, NodeId } from './types.js';
import { MessageType } from './types.js';

/** A message as the replicator builds it; the node adds group, sender and term. */
export type OutgoingMessage = Omit<Message, 'group' | 'from' | 'term'> & { term?: number };

export interface ReplicatorContext {
  readonly id: NodeId;
  readonly group: string;
  readonly opts: ResolvedRaftOptions;
  readonly log: RaftLog;
  readonly logger: Logger;
  send(m: OutgoingMessage): void;
  /** The node's tick count. */
  now(): number;
}

/**
 * The leader's side of log replication: one Progress per member, and what to send each of them. Work is
 * batched: events only mark a follower (`mark`), and `flush` (called when the node builds a Ready) sends
 * each marked follower what its state and window allow, so every proposal of a cycle shares one App.
 */
export class Replicator {
  readonly #ctx: ReplicatorContext;
  readonly progress = new Map<NodeId, Progress>();
  readonly #marked = new Set<NodeId>();

  constructor(ctx: ReplicatorContext) {
    this.#ctx = ctx;
  }

  reset(): void {
    this.progress.clear();
    this.#marked.clear();
  }

  /**
   * Makes progress match the members of `conf`, plus `leaving` (members an uncommitted change removes:
   * they still get the log, as non-voters, so that they learn of their removal and stop campaigning).
   */
  sync(conf: ConfState, leaving: readonly NodeId[]): void {
    const { id, log, opts } = this.#ctx;
    const wanted = new Set([...members(conf), ...leaving]);
    for (const member of [...this.progress.keys()]) if (!wanted.has(member)) this.progress.delete(member);
    for (const member of wanted) {
      const learner = !isVoter(conf, member);
      const pr = this.progress.get(member);
      if (pr) {
        pr.learner = learner;
        continue;
      }
      const fresh = new Progress(log.lastIndex() + 1, learner, opts.maxInflightMsgs, opts.maxInflightBytes);
      if (member === id) {
        fresh.match = log.lastIndex();
        fresh.state = 'replicate';
      }
      this.progress.set(member, fresh);
      this.#marked.add(member);
    }
  }

  /** Our own log grew to `index`. */
  selfAppended(index: number): void {
    const self = this.progress.get(this.#ctx.id);
    if (self) {
      self.match = index;
      self.next = index + 1;
    }
    this.markAll();
  }

  mark(id: NodeId): void {
    this.#marked.add(id);
  }

  markAll(): void {
    for (const id of this.progress.keys()) if (id !== this.#ctx.id) this.#marked.add(id);
  }

  /** Sends what every marked follower can take now: batched entries, pipelined within the limits. */
  flush(): void {
    for (const to of this.#marked) {
      let guard = 0;
      while (this.#maybeSendAppend(to) && guard++ < 1_000_000);
    }
    this.#marked.clear();
  }

  /** Restarts snapshot streams that made no progress for `timeout` ticks (lost chunks or answers). */
  tickSnapshots(timeout: number): void {
    const now = this.#ctx.now();
    for (const [id, pr] of this.progress) {
      if (pr.snapshot?.stalled(now, timeout)) {
        pr.snapshot.rewind(now);
        this.#marked.add(id);
      }
    }
  }

  bcastHeartbeat(context: Uint8Array | undefined): void {
    const { id, log } = this.#ctx;
    for (const [to, pr] of this.progress) {
      if (to === id) continue;
      // The tick in `index` comes back in the answer and dates the lease; the commit index sent is
      // capped at what the follower is known to store.
      const commit = Math.min(pr.match, log.committed);
      this.#ctx.send({
        type: MessageType.Heartbeat,
        to,
        index: this.#ctx.now(),
        commit,
        ...(context ? { context } : {}),
      });
    }
  }

  /** A majority of `voters` answered since the last check (we count as having answered). */
  quorumActive(voters: readonly NodeId[]): boolean {
    return hasQuorum(voters, (id) => id === this.#ctx.id || this.progress.get(id)?.recentActive === true);
  }

  /** Starts a new check-quorum round. */
  resetActivity(): void {
    for (const [id, pr] of this.progress) pr.recentActive = id === this.#ctx.id;
  }

  /** A majority of `voters` answered heartbeats sent less than `ticks` ago (lease reads). */
  quorumHeardWithin(voters: readonly NodeId[], ticks: number): boolean {
    const now = this.#ctx.now();
    return hasQuorum(voters, (id) => {
      if (id === this.#ctx.id) return true;
      const pr = this.progress.get(id);
      return pr !== undefined && now - pr.leaseTick < ticks;
    });
  }

  /** Sends one App (or snapshot chunks) to `to`; true when another App could follow right away. */
  #maybeSendAppend(to: NodeId): boolean {
    const { log, opts } = this.#ctx;
    const pr = this.progress.get(to);
    if (!pr || to === this.#ctx.id) return false;
    if (pr.state === 'snapshot') {
      this.#sendSnapshotChunks(to, pr);
      return false;
    }
    if (pr.paused()) return false;
    const lastIndex = log.lastIndex();
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    let entries: Entry[] | undefined = [];
    if (pr.next <= lastIndex) {
      const budget =
        pr.state === 'replicate' ? Math.min(opts.maxSizePerMsg, pr.inflights.freeBytes) : opts.maxSizePerMsg;
      entries = log.entries(pr.next, lastIndex + 1, budget);
    }
    if (prevTerm === undefined || entries === undefined) {
      this.#startSnapshot(to, pr);
      return false;
    }
    const needProbe = (pr.state === 'probe' || pr.emptyDue) && pr.match < lastIndex;
    if (entries.length === 0 && pr.sentCommit >= log.committed && !needProbe) return false;
    pr.emptyDue = false;
    let bytes = 0;
    for (const e of entries) bytes += entrySize(e);
    this.#ctx.send({ type: MessageType.App, to, index: prevIndex, logTerm: prevTerm, entries, commit: log.committed });
    pr.sentCommit = log.committed;
    pr.sentEntries(prevIndex + entries.length, bytes, entries.length);
    return entries.length > 0 && pr.state === 'replicate';
  }

  #startSnapshot(to: NodeId, pr: Progress): void {
    const { group, id, log, logger } = this.#ctx;
    const snapshot = log.snapshot();
    if (snapshot.meta.index === 0) {
      logger.error({ group, node: id, to }, 'raft: entries compacted but no snapshot to send');
      return;
    }
    logger.info(
      { group, node: id, to, index: snapshot.meta.index, bytes: snapshot.data.byteLength },
      'raft: sending a snapshot',
    );
    pr.becomeSnapshot(snapshot, this.#ctx.now());
    this.#sendSnapshotChunks(to, pr);
  }

  /** Streams InstallSnapshot chunks within a window of a few chunks (bounded by the inflight limits). */
  #sendSnapshotChunks(to: NodeId, pr: Progress): void {
    const { opts } = this.#ctx;
    const chunkBytes = opts.snapshotChunkBytes;
    const window = Math.min(opts.maxInflightBytes, chunkBytes * Math.min(4, opts.maxInflightMsgs));
    for (const snapshot of pr.snapshot?.nextChunks(chunkBytes, window) ?? []) {
      this.#ctx.send({ type: MessageType.Snap, to, index: snapshot.meta.index, snapshot });
    }
  }
}
