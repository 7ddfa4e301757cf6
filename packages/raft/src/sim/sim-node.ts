import type { RaftNodeApi } from '../node-api.js';
import type { GroupStorage, RaftStorage } from '../storage.js';
import type { Entry, NodeId, Ready } from '../types.js';
import { LogImage } from './durable-log.js';
import { ToyStateMachine } from './toy-state-machine.js';

/**
 * A storage whose writes are durable only once synced, and which can crash (MemoryStorage with
 * `sync: 'manual'` is one). crash() returns the storage a restarted process would open.
 */
export interface CrashableStorage extends RaftStorage {
  sync(): void;
  crash(options?: { keepUnsynced?: number }): CrashableStorage;
  readonly unsyncedTransactions: number;
}

/** One storage transaction as the simulator's durable shadow replays it once it is synced. */
export interface ShadowTx {
  readonly apply: ((image: LogImage) => void)[];
  readonly entries: readonly Entry[];
}

export interface PendingProposal {
  readonly value: string;
  readonly term: number;
  readonly at: number;
}

export interface PendingRead {
  /** How many acknowledged writes existed when the read began: it must observe all of them. */
  readonly ackedBefore: number;
  readonly at: number;
  index?: number;
}

/**
 * One simulated server: its storage (which survives crashes, minus unsynced writes) with a shadow of
 * what is durable, the Raft node and application state of the current incarnation, and the client
 * requests waiting on it.
 */
export class SimNode {
  readonly id: NodeId;
  /** Voters passed as `peers` when it (re)starts: the initial members; [] for nodes added later. */
  readonly bootstrap: readonly NodeId[];
  storage: CrashableStorage;
  group: GroupStorage;
  /** What would survive a crash, maintained by the simulator independently of the storage. */
  readonly durable = new LogImage();
  /** Transactions written but not yet synced, oldest first (parallel to the storage's own queue). */
  unsynced: ShadowTx[] = [];
  /** The live Raft node; undefined while crashed or after removal. */
  raft: RaftNodeApi | undefined;
  sm = new ToyStateMachine();
  /** Bumped at every crash, so events scheduled for an earlier incarnation are ignored. */
  epoch = 0;
  /** The Ready being persisted (one at a time: the next comes after advance). */
  pending: Ready | undefined;
  /** Removed from the group and shut down for good. */
  removed = false;
  /** Highest term and commit seen in this incarnation (they must never go back). */
  lastTerm = 0;
  lastCommit = 0;
  /** The term in which it was last seen leading, and the commit index checked for durability then. */
  leaderTerm = -1;
  checkedCommit = 0;
  readonly proposals = new Map<number, PendingProposal>();
  readonly reads = new Map<string, PendingRead>();

  constructor(id: NodeId, groupId: string, bootstrap: readonly NodeId[], storage: CrashableStorage) {
    this.id = id;
    this.bootstrap = bootstrap;
    this.storage = storage;
    this.group = storage.group(groupId);
  }

  get up(): boolean {
    return this.raft !== undefined;
  }
}
