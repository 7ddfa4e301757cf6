import type { ConfChange, ConfState, Message, NodeId, Ready, Snapshot, SnapshotMeta, SoftState } from './types.js';

/**
 * The surface of one Raft node (RaftNode in raft-node.ts implements it). It is a pure state machine:
 * every method runs synchronously, performs no I/O and reads time only through tick().
 *
 * The ready loop, run by the driver (multi-raft.ts) or by a test:
 *   node.tick() / node.step(m) / node.propose(d) ...
 *   if (node.hasReady()) { const rd = node.ready(); persist(rd); send(rd.messages); apply(rd); node.advance(rd); }
 */
export interface RaftNodeApi {
  readonly id: NodeId;
  /** Advances logical time by one tick (elections, heartbeats, check-quorum, transfer timeout). */
  tick(): void;
  /** Feeds a message received from a peer. Messages of other groups or stale terms are handled safely. */
  step(message: Message): void;
  /**
   * Appends data as a new entry if this node leads; returns the index and term it will have.
   * Throws NotLeaderError (with the known leader), TransferInProgressError or ProposalDroppedError.
   */
  propose(data: Uint8Array): { index: number; term: number };
  /** Proposes a membership change; one at a time, only after the leader committed an entry of its term. */
  proposeConfChange(change: ConfChange): { index: number; term: number };
  /**
   * Linearizable read: the answer comes in a later Ready's readStates with the same context, once the
   * leader confirmed it still leads (heartbeat quorum) or, with `lease`, while its lease holds.
   * Only the leader serves reads (throws NotLeaderError elsewhere; no forwarding). A read whose leader
   * loses leadership first is never answered: callers time out and retry. Contexts should be unique.
   */
  readIndex(context: Uint8Array, options?: { lease?: boolean }): void;
  /**
   * Hands leadership to `to` (TimeoutNow once it is caught up); proposals are refused meanwhile; the
   * transfer is abandoned after an election timeout. Throws NotLeaderError on a non-leader.
   */
  transferLeadership(to: NodeId): void;
  /** Starts an election now (tests, and a follower asked to take over). */
  campaign(): void;
  hasReady(): boolean;
  ready(): Ready;
  /** Acknowledges that a Ready was fully processed (persisted, sent, applied). */
  advance(ready: Ready): void;
  /**
   * The metadata a snapshot of the application state at `index` (firstIndex-1 <= index <= the last
   * entry handed out for applying, so it may be called while applying a Ready)
   * must carry: that entry's term and the membership in force there. (Added with the Raft core.)
   *   const snap = { meta: node.snapshotMeta(applied), data: app.serialize() };
   *   storage.createSnapshot(snap, retain); node.snapshotTaken(snap);
   */
  snapshotMeta(index: number): SnapshotMeta;
  /** Tells the node the application took a snapshot of its state at `index` (<= applied). */
  snapshotTaken(snapshot: Snapshot): void;
  /** The membership in force now (the latest configuration in the log). (Added with the Raft core.) */
  confState(): ConfState;
  /** Tells the leader a snapshot sent to `to` failed, so it retries later. */
  reportUnreachable(to: NodeId): void;
  readonly softState: SoftState;
  /** For status pages: match/next per follower (leader only), commit and applied. */
  status(): RaftStatus;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly soft: SoftState;
  readonly progress: Readonly<
    Record<
      NodeId,
      {
        match: number;
        next: number;
        state: 'probe' | 'replicate' | 'snapshot';
        recentActive: boolean;
        learner?: boolean;
      }
    >
  >;
  /** Added with the Raft core. */
  readonly conf?: ConfState;
  /** The node a pending leadership transfer goes to, "" when none. Added with the Raft core. */
  readonly transferee?: NodeId;
}
