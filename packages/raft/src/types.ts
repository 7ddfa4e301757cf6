/**
 * The public data types of @myqueue/raft. Everything here is plain data so that it can be persisted,
 * encoded for the wire (see codec.ts) and compared in tests.
 */

/** A member of a group, e.g. a broker id ("b1"). */
export type NodeId = string;
/** A Raft group, e.g. a partition ("orders/0"). Every message names its group so groups can share links. */
export type GroupId = string;

export enum EntryType {
  /** Application data (the broker's record batches). An empty normal entry is the leader's no-op. */
  Normal = 0,
  /**
   * A membership change; `data` is an encoded ConfChangeEntry (codec.ts: encodeConfChangeEntry /
   * decodeConfChangeEntry): the change and the whole configuration after it. A member uses the latest
   * configuration in its log, committed or not (on append, as in the Raft dissertation 4.1).
   * Index 1 of a bootstrapped group is such an entry holding the initial voters (no `change`).
   */
  ConfChange = 1,
}

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before a node answers anything: the paper's persistent state minus the log. */
export interface HardState {
  readonly term: number;
  /** Whom this node voted for in `term`; "" for nobody. */
  readonly vote: NodeId;
  readonly commit: number;
}

/**
 * Membership. `votersOutgoing` is non-empty only while a joint configuration (C_old,new) is in force;
 * learners receive the log but never vote nor count towards a quorum.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
}

export enum ConfChangeType {
  AddVoter = 0,
  AddLearner = 1,
  RemoveNode = 2,
}

/** One membership change; applied one at a time (single-server changes). */
export interface ConfChange {
  readonly type: ConfChangeType;
  readonly node: NodeId;
}

/**
 * The payload of an EntryType.ConfChange entry: the change (absent in the bootstrap entry) and the
 * configuration it produces, so any member (even one that joined later) knows the whole membership
 * from the entry alone. Added with the Raft core; backward compatible.
 */
export interface ConfChangeEntry {
  readonly change?: ConfChange;
  readonly conf: ConfState;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

/** A point-in-time image of the application state machine, taken by the application at an applied index. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

/** Volatile state the application may want to observe (who leads, our role). */
export interface SoftState {
  readonly role: Role;
  /** Current leader, or "" when unknown. */
  readonly leader: NodeId;
  readonly term: number;
}

export enum MessageType {
  App = 'app',
  AppResp = 'app-resp',
  Vote = 'vote',
  VoteResp = 'vote-resp',
  PreVote = 'pre-vote',
  PreVoteResp = 'pre-vote-resp',
  Heartbeat = 'heartbeat',
  HeartbeatResp = 'heartbeat-resp',
  /** One chunk of an InstallSnapshot transfer. */
  Snap = 'snap',
  SnapResp = 'snap-resp',
  TimeoutNow = 'timeout-now',
}

/**
 * A Raft RPC. A flat record (as in etcd) so one codec serves every type; fields a type does not use are
 * left undefined. `term` is the sender's term (0 only for local messages).
 */
export interface Message {
  readonly type: MessageType;
  readonly group: GroupId;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** App: term of the entry at `index`. Vote/PreVote: term of the candidate's last entry. */
  readonly logTerm?: number;
  /**
   * App: index preceding `entries`. AppResp: last matched index (or rejected index). Vote: last index.
   * Heartbeat: the leader's tick count when sending, echoed in HeartbeatResp (measures leases from the
   * send time, not the answer's arrival). Snap/SnapResp: the snapshot's index.
   */
  readonly index?: number;
  readonly entries?: readonly Entry[];
  readonly commit?: number;
  readonly reject?: boolean;
  /** AppResp on reject: the follower's hint for fast backtracking (conflict index)... */
  readonly rejectHint?: number;
  /** ...and the term of the follower's entry there (0 if its log is shorter). */
  readonly hintTerm?: number;
  /** Snap: one chunk of a snapshot. */
  readonly snapshot?: SnapshotChunk;
  /**
   * SnapResp: `index` names the snapshot being transferred and `chunkOffset` is the next byte offset
   * the follower expects (every byte before it was received); with `reject` the leader resends from there.
   * (Field added with the Raft core.)
   */
  readonly chunkOffset?: number;
  /**
   * Heartbeat/HeartbeatResp: the ReadIndex round this heartbeat confirms leadership for.
   * Vote/PreVote: non-empty marks a campaign started by a leadership transfer (TimeoutNow), which may
   * override a follower's leader lease.
   */
  readonly context?: Uint8Array;
}

/** InstallSnapshot is sent in chunks so a large partition never needs one huge message. */
export interface SnapshotChunk {
  readonly meta: SnapshotMeta;
  /** Byte offset of `data` within the full snapshot. */
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

/** The answer to a ReadIndex request: reads that observe the state at `index` are linearizable. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * Everything the application must do after a node changed: the ready loop.
 *
 * Order of work for each Ready (see docs/raft.md):
 *   1. persist `hardState`, `snapshot` and `entries` durably (one transaction for all groups);
 *   2. send `messages` (they may depend on what step 1 made durable, so never before it);
 *   3. install `snapshot` into the state machine, then apply `committedEntries` in order;
 *   4. call `advance(ready)`.
 *
 * A message is justified by the durable state right after step 1 of its own Ready. The node may step
 * more input before advance() (e.g. a newer term that truncates its log in memory); the messages of the
 * earlier Ready stay correct, exactly as if the network had delayed them, so an invariant checker must
 * judge a message against what its own Ready persisted, not against a later Ready's writes.
 */
export interface Ready {
  readonly group: GroupId;
  /** Set when term, vote or commit changed. */
  readonly hardState?: HardState;
  /** Entries to append to stable storage; they replace any stored entries from `entries[0].index` on. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader, to persist and install before applying further entries. */
  readonly snapshot?: Snapshot;
  /** Entries known committed and not yet handed out for applying, in index order. */
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  /** Set when role or leader changed. */
  readonly softState?: SoftState;
  readonly readStates: readonly ReadState[];
  /** True when hardState or entries or snapshot must be fsynced before messages go out. */
  readonly mustSync: boolean;
}
