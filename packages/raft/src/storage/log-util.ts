/**
 * Rules shared by every RaftStorage implementation, so the in-memory and SQLite storages agree to the
 * byte on bounds, sizes and validation (the conformance suite checks both against the same cases).
 */
import type { ConfState, Entry, HardState, Snapshot } from '../types.js';
import { CompactedError, LogGapError, SnapshotOutOfDateError, UnavailableError } from './errors.js';

export const EMPTY_CONF_STATE: ConfState = Object.freeze({ voters: [], learners: [], votersOutgoing: [] });
export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: '', commit: 0 });
export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  meta: Object.freeze({ index: 0, term: 0, conf: EMPTY_CONF_STATE }),
  data: new Uint8Array(0),
});

/** The size an entry counts for in `entries(lo, hi, maxBytes)`: the core's measure (payload + fixed overhead). */
export { entrySize } from '../raft-log.js';

/**
 * Where a log stands: entries (compactIndex, lastIndex] are stored, and the term of compactIndex (the
 * last compacted entry, or the snapshot point) is remembered so term(firstIndex-1) still answers.
 */
export interface LogBounds {
  readonly compactIndex: number;
  readonly lastIndex: number;
}

/** Throws unless `lo <= hi` and [lo, hi) lies within the stored entries. */
export function checkRange(bounds: LogBounds, lo: number, hi: number): void {
  if (lo > hi) throw new RangeError(`invalid log range [${lo}, ${hi})`);
  if (lo <= bounds.compactIndex) throw new CompactedError(lo, bounds.compactIndex + 1);
  if (hi > bounds.lastIndex + 1) throw new UnavailableError(hi - 1, bounds.lastIndex);
}

/** Throws CompactedError/UnavailableError when term(index) cannot be answered. */
export function checkTermIndex(bounds: LogBounds, index: number): void {
  if (index < bounds.compactIndex) throw new CompactedError(index, bounds.compactIndex);
  if (index > bounds.lastIndex) throw new UnavailableError(index, bounds.lastIndex);
}

/**
 * Validates an append and returns how many leading entries to skip because they are already compacted
 * (committed entries a leader re-sent; they match by the Log Matching property). Returns entries.length
 * when nothing is left to write.
 */
export function checkAppend(bounds: LogBounds, entries: readonly Entry[]): number {
  if (entries.length === 0) return 0;
  const first = entries[0].index;
  if (first > bounds.lastIndex + 1) throw new LogGapError(first, bounds.lastIndex);
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].index !== first + i) throw new LogGapError(entries[i].index, first + i - 1);
  }
  return Math.min(entries.length, Math.max(0, bounds.compactIndex + 1 - first));
}

/** Validates a snapshot the application took: not older than the stored one, and within the log. */
export function checkCreateSnapshot(bounds: LogBounds, currentIndex: number, snapshot: Snapshot, retain: number): void {
  if (!Number.isInteger(retain) || retain < 0)
    throw new RangeError(`retain must be a non-negative integer, got ${retain}`);
  if (snapshot.meta.index < currentIndex) throw new SnapshotOutOfDateError(snapshot.meta.index, currentIndex);
  if (snapshot.meta.index > bounds.lastIndex) throw new UnavailableError(snapshot.meta.index, bounds.lastIndex);
}

/** Validates a snapshot received from a leader: it must not be older than the stored one. */
export function checkApplySnapshot(currentIndex: number, snapshot: Snapshot): void {
  if (snapshot.meta.index < currentIndex) throw new SnapshotOutOfDateError(snapshot.meta.index, currentIndex);
}

/**
 * The index up to which createSnapshot compacts: snapshot index minus `retain`, never going back
 * behind what is already compacted.
 */
export function compactTarget(bounds: LogBounds, snapshotIndex: number, retain: number): number {
  return Math.max(bounds.compactIndex, snapshotIndex - retain);
}
