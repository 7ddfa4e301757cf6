import type { Snapshot, SnapshotChunk, SnapshotMeta } from './types.js';

/**
 * InstallSnapshot in chunks, both ends. The leader's SnapshotSender streams a captured snapshot a window
 * of chunks ahead of the follower's acknowledgements; the follower's SnapshotAssembler accepts chunks in
 * order and hands back the whole snapshot after the last one.
 */

export class SnapshotSender {
  readonly snapshot: Snapshot;
  /** Next byte offset to send. */
  #sent = 0;
  /** Every byte before this offset was acknowledged. */
  #acked = 0;
  /** The chunk marked `done` went out (until a rewind). */
  #sentAll = false;
  /** Tick of the last progress (or of the start), to detect a stalled transfer. */
  #lastProgressTick: number;

  constructor(snapshot: Snapshot, tick: number) {
    this.snapshot = snapshot;
    this.#lastProgressTick = tick;
  }

  get index(): number {
    return this.snapshot.meta.index;
  }

  /** The chunks that fit in the window now, each at most `chunkBytes` long. */
  nextChunks(chunkBytes: number, windowBytes: number): SnapshotChunk[] {
    const data = this.snapshot.data;
    const out: SnapshotChunk[] = [];
    while (!this.#sentAll && this.#sent - this.#acked < Math.max(windowBytes, chunkBytes)) {
      const end = Math.min(data.byteLength, this.#sent + chunkBytes);
      const done = end >= data.byteLength;
      out.push({ meta: this.snapshot.meta, offset: this.#sent, data: data.subarray(this.#sent, end), done });
      this.#sent = end;
      if (done) this.#sentAll = true;
    }
    return out;
  }

  /** The follower has every byte before `offset` (it may be ahead of what we think: skip forward). */
  ack(offset: number, tick: number): void {
    this.#acked = Math.max(this.#acked, Math.min(offset, this.snapshot.data.byteLength));
    this.#sent = Math.max(this.#sent, this.#acked);
    this.#lastProgressTick = tick;
  }

  /** The follower wants the bytes from `offset` on (it saw a gap, or lost what it had). */
  resendFrom(offset: number, tick: number): void {
    this.#acked = Math.min(offset, this.snapshot.data.byteLength);
    this.#sent = this.#acked;
    this.#sentAll = false;
    this.#lastProgressTick = tick;
  }

  /** Chunks or answers were lost: send again from the last acknowledged byte. */
  rewind(tick: number): void {
    this.resendFrom(this.#acked, tick);
  }

  stalled(tick: number, timeout: number): boolean {
    return tick - this.#lastProgressTick >= timeout;
  }
}

export type ChunkOutcome =
  | { readonly kind: 'ack'; readonly offset: number }
  | { readonly kind: 'reject'; readonly offset: number }
  | { readonly kind: 'done'; readonly snapshot: Snapshot };

export class SnapshotAssembler {
  #meta: SnapshotMeta | undefined;
  #chunks: Uint8Array[] = [];
  #received = 0;

  /** Offers one chunk; says what to answer (or hands out the complete snapshot). */
  offer(chunk: SnapshotChunk): ChunkOutcome {
    const { meta } = chunk;
    if (!this.#meta || this.#meta.index !== meta.index || this.#meta.term !== meta.term) {
      if (chunk.offset !== 0) return { kind: 'reject', offset: 0 };
      this.#meta = meta;
      this.#chunks = [];
      this.#received = 0;
    }
    if (chunk.offset < this.#received) return { kind: 'ack', offset: this.#received }; // a duplicate
    if (chunk.offset > this.#received) return { kind: 'reject', offset: this.#received }; // a gap
    this.#chunks.push(chunk.data.slice()); // decoded chunks are views into a network buffer
    this.#received += chunk.data.byteLength;
    if (!chunk.done) return { kind: 'ack', offset: this.#received };
    const data = new Uint8Array(this.#received);
    let at = 0;
    for (const c of this.#chunks) {
      data.set(c, at);
      at += c.byteLength;
    }
    this.reset();
    return { kind: 'done', snapshot: { meta, data } };
  }

  reset(): void {
    this.#meta = undefined;
    this.#chunks = [];
    this.#received = 0;
  }
}
