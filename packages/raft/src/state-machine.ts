import type { Entry, Snapshot } from './types.js';

/**
 * The application state one Raft group replicates (the broker's partition: messages, offsets, consumer
 * positions, producer dedup). MultiRaft calls it from its ready loop, always inside the storage
 * transaction that also persists the group's log, so a state machine that writes to the same SQLite
 * database (through `SqliteStorage.database`) commits its effects atomically with the Raft state: one
 * fsync for every group, and after a crash the state and the log agree.
 *
 *   const counter: StateMachine<number> = {
 *     total: 0, last: 0,
 *     apply(entries) { return entries.map((e) => { this.last = e.index; return (this.total += e.data.length); }); },
 *     appliedIndex() { return this.last; },
 *     snapshot() { return encode(this.total, this.last); },
 *     restore(s) { [this.total, this.last] = decode(s.data); },
 *   };
 */
export interface StateMachine<R = unknown> {
  /**
   * Applies committed entries, in index order, each exactly once per incarnation of the state. Every entry
   * type is passed (EntryType.Normal with data, empty Normal no-ops of new leaders, ConfChange entries) so
   * the machine can record the index it reached; it ignores those it has no use for.
   * Returns one result per entry (the value `MultiRaft.propose` resolves with for that entry).
   * Must be deterministic: every replica applies the same entries and must reach the same state.
   * Throwing is fatal for the whole MultiRaft (the transaction rolls back and the driver stops).
   */
  apply(entries: readonly Entry[]): readonly R[];
  /**
   * The index of the last entry whose effects the state holds: for a state persisted in the same database
   * as the log, the durable one (entries after it are applied again on restart); 0 for a fresh state
   * (the driver then restores the latest snapshot and replays the log after it).
   */
  appliedIndex(): number;
  /** Serializes the state as of `appliedIndex()`; the driver calls it right after an apply, so they match. */
  snapshot(): Uint8Array;
  /** Replaces the whole state by a snapshot (from a leader, or the local one on restart). */
  restore(snapshot: Snapshot): void;
}

/** What `MultiRaft.propose` resolves with once the entry is committed and applied. */
export interface ApplyResult<R = unknown> {
  readonly index: number;
  readonly term: number;
  /** What StateMachine.apply returned for this entry. */
  readonly result: R;
}
