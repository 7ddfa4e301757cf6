import { CompactedError, UnavailableError } from '../errors.js';
import type { Entry, HardState, Snapshot } from '../types.js';

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  meta: Object.freeze({ index: 0, term: 0, conf: Object.freeze({ voters: [], learners: [], votersOutgoing: [] }) }),
  data: new Uint8Array(0),
});

/**
 * One node's log state as plain data: hard state, latest snapshot, and the retained entries
 * `firstIndex .. firstIndex + entries.length - 1`. The simulator keeps one of these per node for what is
 * DURABLE (fed only when a persist step completes), independently of the storage the node reads, so the
 * invariant checker judges logs by what would survive a crash.
 */
export class LogImage {
  hardState: HardState = { term: 0, vote: '', commit: 0 };
  snapshot: Snapshot = EMPTY_SNAPSHOT;
  firstIndex = 1;
  /** Term of the entry at firstIndex - 1 (0 for an empty log). */
  prevTerm = 0;
  entries: Entry[] = [];

  get lastIndex(): number {
    return this.firstIndex + this.entries.length - 1;
  }

  /** Term at `index`, or undefined when the entry is not held (compacted away or beyond the end). */
  termAt(index: number): number | undefined {
    if (index === this.firstIndex - 1) return this.prevTerm;
    const e = this.entries[index - this.firstIndex];
    return e?.term;
  }

  entryAt(index: number): Entry | undefined {
    return this.entries[index - this.firstIndex];
  }

  /** Whether the log holds entry (index, term), or a snapshot covers index (its term is then trusted). */
  covers(index: number, term: number): boolean {
    if (index <= this.snapshot.meta.index) return true;
    return this.termAt(index) === term;
  }

  /** Appends, first deleting entries at or after entries[0].index; compacted entries are skipped. */
  append(entries: readonly Entry[]): void {
    const fresh = entries.filter((e) => e.index >= this.firstIndex);
    const first = fresh[0];
    if (first === undefined) return;
    if (first.index > this.lastIndex + 1) {
      throw new Error(`append at ${first.index} leaves a gap after ${this.lastIndex}`);
    }
    this.entries.length = first.index - this.firstIndex;
    for (const e of fresh) this.entries.push(e);
  }

  /** A snapshot from the leader replaces the whole log. */
  applySnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.firstIndex = snapshot.meta.index + 1;
    this.prevTerm = snapshot.meta.term;
    this.entries = [];
  }

  /** A snapshot the application took: keep the log, drop entries up to index - retain. */
  createSnapshot(snapshot: Snapshot, retain: number): void {
    this.snapshot = snapshot;
    const cut = Math.max(0, snapshot.meta.index - retain);
    if (cut >= this.firstIndex) {
      const drop = Math.min(cut - this.firstIndex + 1, this.entries.length);
      this.prevTerm = this.entries[drop - 1]?.term ?? this.prevTerm;
      this.entries = this.entries.slice(drop);
      this.firstIndex += drop;
    }
  }

  clone(): LogImage {
    const c = new LogImage();
    c.hardState = this.hardState;
    c.snapshot = this.snapshot;
    c.firstIndex = this.firstIndex;
    c.prevTerm = this.prevTerm;
    c.entries = this.entries.slice();
    return c;
  }

  /** LogReader.term semantics (throws for indexes outside the readable range). */
  readTerm(index: number): number {
    if (index < this.firstIndex - 1) throw new CompactedError(index, this.firstIndex);
    if (index > this.lastIndex) throw new UnavailableError(index, this.lastIndex);
    return this.termAt(index) as number;
  }

  /** LogReader.entries semantics. */
  readEntries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex) throw new CompactedError(lo, this.firstIndex);
    if (hi > this.lastIndex + 1) throw new UnavailableError(hi - 1, this.lastIndex);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.entries[i - this.firstIndex];
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }
}
