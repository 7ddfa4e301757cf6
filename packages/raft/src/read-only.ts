import type { NodeId, ReadState } from './types.js';

/**
 * ReadIndex bookkeeping on the leader: each request remembers the commit index when it arrived; a
 * heartbeat round carrying its context proves the leader still leads once a quorum answers; then that
 * request and every earlier one are ready (the leader had that commit index when each arrived).
 */
export class ReadOnly {
  /** Requests in arrival order. */
  #queue: { index: number; context: Uint8Array; key: string }[] = [];
  /** Acknowledgements per context key. */
  #acks = new Map<string, Set<NodeId>>();

  static key(context: Uint8Array): string {
    return Buffer.from(context.buffer, context.byteOffset, context.byteLength).toString('base64');
  }

  get pending(): number {
    return this.#queue.length;
  }

  add(index: number, context: Uint8Array, self: NodeId): void {
    const key = ReadOnly.key(context);
    this.#queue.push({ index, context, key });
    if (!this.#acks.has(key)) this.#acks.set(key, new Set([self]));
  }

  /** Records that `from` answered the round of `context`; returns who acknowledged it so far. */
  recvAck(from: NodeId, context: Uint8Array): ReadonlySet<NodeId> | undefined {
    const acks = this.#acks.get(ReadOnly.key(context));
    acks?.add(from);
    return acks;
  }

  /** The round of `context` reached a quorum: releases it and every request queued before it. */
  advance(context: Uint8Array): ReadState[] {
    const key = ReadOnly.key(context);
    let last = -1;
    for (let i = 0; i < this.#queue.length; i++) if (this.#queue[i].key === key) last = i;
    if (last < 0) return [];
    const released = this.#queue.slice(0, last + 1);
    this.#queue = this.#queue.slice(last + 1);
    const stillQueued = new Set(this.#queue.map((r) => r.key));
    for (const r of released) if (!stillQueued.has(r.key)) this.#acks.delete(r.key);
    return released.map((r) => ({ index: r.index, context: r.context }));
  }

  /** Context of the most recent request, which a heartbeat round should carry. */
  lastContext(): Uint8Array | undefined {
    return this.#queue[this.#queue.length - 1]?.context;
  }

  reset(): void {
    this.#queue = [];
    this.#acks = new Map();
  }
}
