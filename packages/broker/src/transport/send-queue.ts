import { MessageType, type Message } from '@myqueue/raft';

/**
 * The bounded outgoing queue of one peer link. Raft tolerates lost messages, so when the peer is slow
 * or unreachable the queue drops its OLDEST messages beyond `maxMessages`/`maxBytes` (stale appends are
 * the least useful: the leader re-sends from the follower's answer). Heartbeats and their answers are
 * coalesced: a newer one for the same group replaces the queued one, so an idle cluster with thousands
 * of groups sends one heartbeat per group per flush, not a backlog.
 */
export interface SendQueueLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

interface Slot {
  message: Message;
  readonly bytes: number;
  readonly coalesceKey: string | undefined;
}

function coalesceKey(m: Message): string | undefined {
  if (m.type === MessageType.Heartbeat || m.type === MessageType.HeartbeatResp) {
    // Heartbeats carrying a ReadIndex context must all arrive: each confirms a different read round.
    if (m.context && m.context.byteLength > 0) return undefined;
    return `${m.type}\u0000${m.group}`;
  }
  return undefined;
}

/** A rough size for the byte bound: entries and snapshot chunks dominate. */
function estimateBytes(m: Message): number {
  let n = 64 + m.group.length;
  if (m.entries) for (const e of m.entries) n += e.data.byteLength + 24;
  if (m.snapshot) n += m.snapshot.data.byteLength + 64;
  return n;
}

export class SendQueue {
  readonly #limits: SendQueueLimits;
  #slots: Slot[] = [];
  #head = 0;
  readonly #coalesce = new Map<string, Slot>();
  #bytes = 0;
  /** Messages dropped because the queue was full. */
  dropped = 0;
  /** Messages replaced by a newer heartbeat of the same group. */
  coalesced = 0;

  constructor(limits: SendQueueLimits) {
    this.#limits = limits;
  }

  get length(): number {
    return this.#slots.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  push(message: Message): void {
    const key = coalesceKey(message);
    if (key !== undefined) {
      const queued = this.#coalesce.get(key);
      if (queued) {
        queued.message = message;
        this.coalesced++;
        return;
      }
    }
    const slot: Slot = { message, bytes: estimateBytes(message), coalesceKey: key };
    this.#slots.push(slot);
    this.#bytes += slot.bytes;
    if (key !== undefined) this.#coalesce.set(key, slot);
    while (this.length > 1 && (this.length > this.#limits.maxMessages || this.#bytes > this.#limits.maxBytes)) {
      this.shift();
      this.dropped++;
    }
  }

  shift(): Message | undefined {
    if (this.#head >= this.#slots.length) return undefined;
    const slot = this.#slots[this.#head];
    this.#slots[this.#head] = undefined as unknown as Slot;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
    this.#bytes -= slot.bytes;
    if (slot.coalesceKey !== undefined && this.#coalesce.get(slot.coalesceKey) === slot)
      this.#coalesce.delete(slot.coalesceKey);
    return slot.message;
  }

  clear(): void {
    this.#slots = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#coalesce.clear();
  }
}
