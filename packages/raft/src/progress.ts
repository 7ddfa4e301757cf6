import { SnapshotSender } from './snapshot-transfer.js';
import type { Snapshot } from './types.js';

/**
 * What a leader knows about one follower (or learner): how far its log matches, what to send next, and
 * how much is in flight. Three states, as in etcd:
 *  - probe: we do not know where its log ends; send one App at a time and wait for the answer;
 *  - replicate: its log matches up to `match`; stream Apps (pipelining) within the inflight limits;
 *  - snapshot: it needs compacted entries; stream InstallSnapshot chunks and wait for it to install.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded window of App messages in flight, limited by count AND by bytes. */
export class Inflights {
  readonly #maxCount: number;
  readonly #maxBytes: number;
  /** Last entry index of each App in flight, oldest first, and its bytes. */
  #items: { index: number; bytes: number }[] = [];
  #bytes = 0;

  constructor(maxCount: number, maxBytes: number) {
    this.#maxCount = maxCount;
    this.#maxBytes = maxBytes;
  }

  get count(): number {
    return this.#items.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes that may still be sent before the window is full. */
  get freeBytes(): number {
    return Math.max(0, this.#maxBytes - this.#bytes);
  }

  full(): boolean {
    return this.#items.length >= this.#maxCount || this.#bytes >= this.#maxBytes;
  }

  add(index: number, bytes: number): void {
    this.#items.push({ index, bytes });
    this.#bytes += bytes;
  }

  /** Frees every App whose last index is <= `index` (the follower acknowledged them). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.#items.length && this.#items[n].index <= index) {
      this.#bytes -= this.#items[n].bytes;
      n++;
    }
    if (n > 0) this.#items = this.#items.slice(n);
  }

  /** Forgets the oldest App in flight (its answer is presumably lost) so the window can move. */
  freeFirst(): void {
    const first = this.#items.shift();
    if (first) this.#bytes -= first.bytes;
  }

  reset(): void {
    this.#items = [];
    this.#bytes = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Probe state: an App went out and we wait for its answer (or a heartbeat answer) before the next. */
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** Leader tick at which the latest heartbeat it answered was sent (lease reads). */
  leaseTick = -Infinity;
  /** Commit index last told to it, to know whether an empty App is worth sending. */
  sentCommit = 0;
  /**
   * It answered a heartbeat while behind: send an App even if it carries nothing new, so that lost Apps
   * are detected (the follower rejects the gap) instead of waiting forever for their answers.
   */
  emptyDue = false;
  learner: boolean;
  readonly inflights: Inflights;
  /** Snapshot state: the InstallSnapshot stream in progress. */
  snapshot: SnapshotSender | undefined;

  constructor(next: number, learner: boolean, maxInflightMsgs: number, maxInflightBytes: number) {
    this.next = next;
    this.learner = learner;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  becomeProbe(): void {
    // After a snapshot, continue right after it; otherwise from just past what we know matches.
    const next =
      this.state === 'snapshot' && this.snapshot ? Math.max(this.match + 1, this.snapshot.index + 1) : this.match + 1;
    this.state = 'probe';
    this.next = next;
    this.probeSent = false;
    this.snapshot = undefined;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.snapshot = undefined;
    this.inflights.reset();
  }

  becomeSnapshot(snapshot: Snapshot, tick: number): void {
    this.state = 'snapshot';
    this.probeSent = false;
    this.inflights.reset();
    this.snapshot = new SnapshotSender(snapshot, tick);
  }

  /** True when nothing more should be sent now. */
  paused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /** Accounts for an App carrying entries up to `lastIndex` (bytes in total) that was just sent. */
  sentEntries(lastIndex: number, bytes: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** An App was acknowledged up to `index`; false when the answer is stale. */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) {
      // Still useful as a sign of life for a probe.
      return false;
    }
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.probeSent = false;
    return true;
  }

  /**
   * An App ending at `rejected` was refused; `matchHint` is the highest index that may match. Returns
   * false when the rejection is stale (answers an App we no longer care about).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }
}
