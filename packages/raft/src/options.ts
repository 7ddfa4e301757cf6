import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { LogReader } from './storage.js';
import type { GroupId, NodeId } from './types.js';

/** Options of one Raft node (one member of one group). */
export interface RaftOptions {
  readonly id: NodeId;
  readonly group: GroupId;
  /** Durable state to start from (a fresh group starts from an empty log and the given `peers`). */
  readonly storage: LogReader;
  /**
   * Voters of a brand-new group. When storage is empty (no entry, no snapshot) and `peers` is non-empty,
   * the node bootstraps: its first Ready persists entry 1 (term 1, a ConfChange entry holding these
   * voters) and hardState {term: 1, commit: 1}. Every initial member must get the same list (order does
   * not matter). Ignored when storage is not empty (a restart). A node added to a running group starts
   * with no peers and learns the membership from the leader (log or snapshot).
   */
  readonly peers?: readonly NodeId[];
  /** Injected randomness in [0, 1); seeded in the simulator. Used only for election timeouts. */
  readonly random: () => number;
  /** Ticks without hearing a leader before campaigning; randomized in [electionTick, 2*electionTick). Default 10. */
  readonly electionTick?: number;
  /** Ticks between leader heartbeats. Default 1. */
  readonly heartbeatTick?: number;
  /** Pre-Vote phase before real elections (no term inflation from partitioned nodes). Default true. */
  readonly preVote?: boolean;
  /** Leader steps down if it has not heard a quorum within an election timeout. Default true. */
  readonly checkQuorum?: boolean;
  /** Max entries bytes in one App message. Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Max App messages in flight per follower. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Max entry bytes in flight per follower. Default 16 MiB. */
  readonly maxInflightBytes?: number;
  /** Max bytes of one InstallSnapshot chunk. Default 1 MiB. */
  readonly snapshotChunkBytes?: number;
  /** Max uncommitted bytes a leader accepts before refusing proposals. Default 64 MiB. */
  readonly maxUncommittedBytes?: number;
  /** Max bytes of committed entries handed out in one Ready (at least one entry). Default 8 MiB. (Added with the core.) */
  readonly maxCommittedSizePerReady?: number;
  /** Last index already applied by the application (on restart). Default: the snapshot index. */
  readonly applied?: number;
  readonly logger?: Logger;
}

export const DEFAULT_ELECTION_TICK = 10;
export const DEFAULT_HEARTBEAT_TICK = 1;
export const DEFAULT_MAX_SIZE_PER_MSG = 1 << 20;
export const DEFAULT_MAX_INFLIGHT_MSGS = 256;
export const DEFAULT_MAX_INFLIGHT_BYTES = 16 << 20;
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1 << 20;
export const DEFAULT_MAX_UNCOMMITTED_BYTES = 64 << 20;
export const DEFAULT_MAX_COMMITTED_SIZE_PER_READY = 8 << 20;

export type ResolvedRaftOptions = Readonly<Required<Omit<RaftOptions, 'peers' | 'applied'>>> & {
  readonly peers: readonly NodeId[];
  readonly applied: number | undefined;
};

/** Fills in the documented defaults and freezes the result. */
export function withDefaults(options: RaftOptions): ResolvedRaftOptions {
  const resolved = {
    electionTick: DEFAULT_ELECTION_TICK,
    heartbeatTick: DEFAULT_HEARTBEAT_TICK,
    preVote: true,
    checkQuorum: true,
    maxSizePerMsg: DEFAULT_MAX_SIZE_PER_MSG,
    maxInflightMsgs: DEFAULT_MAX_INFLIGHT_MSGS,
    maxInflightBytes: DEFAULT_MAX_INFLIGHT_BYTES,
    snapshotChunkBytes: DEFAULT_SNAPSHOT_CHUNK_BYTES,
    maxUncommittedBytes: DEFAULT_MAX_UNCOMMITTED_BYTES,
    maxCommittedSizePerReady: DEFAULT_MAX_COMMITTED_SIZE_PER_READY,
    logger: silentLogger,
    ...options,
    peers: options.peers ?? [],
    applied: options.applied,
  };
  if (resolved.heartbeatTick < 1 || resolved.electionTick <= resolved.heartbeatTick) {
    throw new RangeError('electionTick must be greater than heartbeatTick >= 1');
  }
  return Object.freeze(resolved);
}
