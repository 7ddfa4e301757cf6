import type { LogReader } from './storage.js';
import type { Entry, Snapshot } from './types.js';

/** Bytes an entry counts for in size limits (payload plus a small fixed overhead). */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 16;
}

/**
 * The log as the core sees it: stable entries read through the LogReader, followed by "unstable" ones
 * (appended in memory, handed out in a Ready, stable once the Ready is advanced), plus the commit and
 * apply positions. An unstable snapshot (received from the leader, not yet persisted) hides the stable log.
 */
export class RaftLog {
  readonly #storage: LogReader;
  /** Unstable entries; #unstable[0] has index #offset. */
  #unstable: Entry[] = [];
  #offset: number;
  #unstableSnapshot: Snapshot | undefined;
  /** Highest index known committed. */
  committed: number;
  /** Highest index the application applied (acknowledged by advance). */
  applied: number;
  /** Highest index handed out for applying (>= applied). */
  applying: number;

  constructor(storage: LogReader, committed: number, applied: number) {
    this.#storage = storage;
    this.#offset = storage.lastIndex() + 1;
    this.committed = committed;
    this.applied = applied;
    this.applying = applied;
  }

  /** Index of the latest snapshot (stable or not): entries up to it are compacted. */
  snapshotIndex(): number {
    return this.#unstableSnapshot ? this.#unstableSnapshot.meta.index : this.#storage.firstIndex() - 1;
  }

  firstIndex(): number {
    return this.snapshotIndex() + 1;
  }

  lastIndex(): number {
    if (this.#unstable.length > 0) return this.#offset + this.#unstable.length - 1;
    if (this.#unstableSnapshot) return this.#unstableSnapshot.meta.index;
    return this.#storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** Term of the entry at `index`, or undefined when it is compacted (below the snapshot) or beyond the log. */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (index > this.lastIndex()) return undefined;
    if (index >= this.#offset && this.#unstable.length > 0) return this.#unstable[index - this.#offset].term;
    const snap = this.#unstableSnapshot;
    if (snap) return index === snap.meta.index ? snap.meta.term : undefined;
    if (index < this.#storage.firstIndex() - 1) return undefined;
    return this.#storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft's "at least as up-to-date" comparison of a candidate's last entry with ours (paper 5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries [lo, hi), at least one when lo < hi, then more while their sizes fit in maxBytes.
   * Undefined when lo is compacted.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined;
    hi = Math.min(hi, this.lastIndex() + 1);
    if (lo >= hi) return [];
    const out: Entry[] = [];
    let bytes = 0;
    const stableHi = Math.min(hi, this.#unstable.length > 0 ? this.#offset : this.#storage.lastIndex() + 1);
    if (lo < stableHi && !this.#unstableSnapshot) {
      for (const e of this.#storage.entries(lo, stableHi, maxBytes)) {
        bytes += entrySize(e);
        if (out.length > 0 && bytes > maxBytes) return out;
        out.push(e);
      }
      if (out.length < stableHi - lo) return out;
    }
    for (let i = Math.max(lo, this.#offset); i < hi; i++) {
      const e = this.#unstable[i - this.#offset];
      bytes += entrySize(e);
      if (out.length > 0 && bytes > maxBytes) return out;
      out.push(e);
    }
    return out;
  }

  /**
   * Appends entries after truncating any entry at or after entries[0].index (the caller checked that
   * the truncated ones are not committed).
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const after = entries[0].index;
    if (after <= this.committed)
      throw new Error(`raft: truncating committed entry ${after} (commit ${this.committed})`);
    if (after === this.#offset + this.#unstable.length) {
      for (const e of entries) this.#unstable.push(e); // no spread: an App may carry 10^5 entries
    } else if (after <= this.#offset) {
      this.#offset = after;
      this.#unstable = [...entries];
    } else {
      this.#unstable = [...this.#unstable.slice(0, after - this.#offset), ...entries];
    }
  }

  /**
   * The follower's side of AppendEntries: if our log has (prevIndex, prevTerm), append what is new,
   * truncating from the first conflicting entry, and return the index of the last new entry together
   * with the entries actually written; undefined when the consistency check fails.
   */
  maybeAppend(
    prevIndex: number,
    prevTerm: number,
    entries: readonly Entry[],
  ): { lastNew: number; written: readonly Entry[] } | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    let i = 0;
    while (i < entries.length && this.matchTerm(entries[i].index, entries[i].term)) i++;
    const written = entries.slice(i);
    this.append(written);
    return { lastNew, written };
  }

  /**
   * For fast backtracking: the largest index <= `index` whose term is <= `term` (and that term), so a
   * leader can skip every entry of a term the other log does not have.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const t = this.term(index);
      if (t === undefined) return { index, term: 0 };
      if (t <= term) return { index, term: t };
    }
    return { index: 0, term: 0 };
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    if (index > this.lastIndex()) throw new Error(`raft: commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** Replaces the log by a snapshot from the leader (until persisted it lives in memory). */
  restore(snapshot: Snapshot): void {
    this.#unstableSnapshot = snapshot;
    this.#unstable = [];
    this.#offset = snapshot.meta.index + 1;
    this.committed = snapshot.meta.index;
  }

  /** The latest snapshot: the unstable one if any, else storage's. */
  snapshot(): Snapshot {
    return this.#unstableSnapshot ?? this.#storage.snapshot();
  }

  unstableEntries(): readonly Entry[] {
    return this.#unstable;
  }

  unstableSnapshot(): Snapshot | undefined {
    return this.#unstableSnapshot;
  }

  /** The driver persisted entries up to (index, term): they leave the unstable part unless since replaced. */
  stableTo(index: number, term: number): void {
    if (index < this.#offset || this.#unstable.length === 0) return;
    const e = this.#unstable[index - this.#offset];
    if (!e || e.term !== term) return;
    this.#unstable = this.#unstable.slice(index + 1 - this.#offset);
    this.#offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.#unstableSnapshot?.meta.index === index) this.#unstableSnapshot = undefined;
  }

  hasNextCommitted(): boolean {
    return this.committed > this.applying && !this.#unstableSnapshot;
  }

  /** Committed entries not yet handed out, up to maxBytes (at least one); marks them as applying. */
  nextCommitted(maxBytes: number): Entry[] {
    if (!this.hasNextCommitted()) return [];
    const out = this.entries(this.applying + 1, this.committed + 1, maxBytes);
    if (!out) throw new Error(`raft: committed entries from ${this.applying + 1} are compacted`);
    if (out.length > 0) this.applying = out[out.length - 1].index;
    return out;
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
    if (index > this.applying) this.applying = index;
  }
}
