import type { ConfState, Entry, GroupId, HardState, Snapshot } from './types.js';

/**
 * What the Raft core reads of one group's durable state. The core never writes storage: it hands the
 * writes out in a Ready and the driver performs them (see GroupStorage and RaftStorage below).
 *
 * Indexes: the log holds entries (firstIndex() .. lastIndex()); everything up to firstIndex()-1 is
 * covered by snapshot(). A fresh log has firstIndex() = 1, lastIndex() = 0 and an empty snapshot at 0.
 */
export interface LogReader {
  /**
   * The persisted hard state, and the configuration of the latest snapshot (voters: [] when none).
   * The core derives the current membership itself from the snapshot's conf plus the ConfChange entries
   * after it, so storage never has to interpret entries.
   */
  initialState(): { hardState: HardState; confState: ConfState };
  firstIndex(): number;
  lastIndex(): number;
  /**
   * Term of the entry at `index`, for snapshotIndex <= index <= lastIndex();
   * throws CompactedError below that range and UnavailableError above it (both in errors.ts).
   */
  term(index: number): number;
  /** Entries [lo, hi), at least one if lo < hi, and further ones only while their sizes sum <= maxBytes. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The latest snapshot (an empty one at index 0 when none was ever taken). */
  snapshot(): Snapshot;
}

/** One group's storage: the reader plus the writes the driver performs from Ready batches. */
export interface GroupStorage extends LogReader {
  readonly group: GroupId;
  setHardState(hs: HardState): void;
  /** Appends entries, first deleting any stored entries at or after entries[0].index. */
  append(entries: readonly Entry[]): void;
  /** Replaces the whole log by a snapshot received from a leader (the log restarts after meta.index). */
  applySnapshot(snapshot: Snapshot): void;
  /**
   * Records a snapshot the application took at an applied index and drops log entries up to
   * `snapshot.meta.index - retain` (retaining a tail lets slow followers catch up without a snapshot).
   */
  createSnapshot(snapshot: Snapshot, retain: number): void;
}

/**
 * The storage of every group on one node. `transaction` makes all writes done inside `fn`, for all
 * groups, durable together: one fsync serves every group (group commit).
 */
export interface RaftStorage {
  /** Opens (creating if needed) the storage of one group. */
  group(group: GroupId): GroupStorage;
  /** Lists the groups that have storage, e.g. to restart them after a crash. */
  groups(): GroupId[];
  /** Deletes every trace of a group (its replica was removed from this node). */
  dropGroup(group: GroupId): void;
  /**
   * Runs `fn` so that its writes, for every group, commit together. With `sync: false` (added with the
   * driver; optional, so older implementations still fit) the commit need not be fsynced at once: it
   * becomes durable with the next synced transaction, and a crash before that may lose it, but never a
   * later transaction without it (commits are durable in order). The driver uses it for Readies with
   * `mustSync: false` (only the commit index moved, and entries were applied: both are recovered from
   * the log after a crash). Nested calls join the outer transaction and ignore the option.
   */
  transaction<T>(fn: () => T, options?: TransactionOptions): T;
  close(): void;
}

export interface TransactionOptions {
  /** fsync the commit before returning. Default true. */
  readonly sync?: boolean;
}
