/**
 * Collects records per partition into batches (Kafka's RecordAccumulator): a partition's batch is ready
 * when it holds batchSize records or batchBytes bytes, when its oldest record has waited lingerMs, or
 * when a flush is under way. A partition has up to maxInFlight batches in flight: a second one only goes
 * when the caller says the partition may pipeline (its batches carry sequence numbers the broker orders
 * by); otherwise one at a time, which keeps records in order. Pure logic: time is passed in.
 */
import type { ProducerRecord } from '@myqueue/protocol';

export interface PendingRecord<T = unknown> {
  readonly record: ProducerRecord;
  readonly bytes: number;
  readonly enqueuedAt: number;
  /** Whatever the caller needs to settle the record later (its promise callbacks). */
  readonly handle: T;
}

export interface AccumulatorLimits {
  readonly batchSize: number;
  readonly batchBytes: number;
  readonly lingerMs: number;
  /** Batches of one partition in flight at once (at least 1). */
  readonly maxInFlight: number;
}

/** Whether a partition that has a batch in flight may send another now. */
export type CanPipeline = (topic: string, partition: number) => boolean;

interface Queue<T> {
  readonly topic: string;
  readonly partition: number;
  records: PendingRecord<T>[];
  bytes: number;
  inFlight: number;
}

export interface Batch<T> {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly PendingRecord<T>[];
  readonly bytes: number;
}

const encoder = new TextEncoder();

/** Bytes a record adds to a request, roughly as JSON: value, key and headers in UTF-8 plus framing. */
export function recordBytes(record: ProducerRecord): number {
  let n = 32 + utf8Length(record.value);
  if (record.key) n += utf8Length(record.key);
  if (record.headers) for (const [k, v] of Object.entries(record.headers)) n += utf8Length(k) + utf8Length(v) + 6;
  return n;
}

function utf8Length(s: string): number {
  // ASCII fast path: one byte per UTF-16 unit.
  // eslint-disable-next-line no-control-regex
  return /^[\u0000-\u007f]*$/.test(s) ? s.length : encoder.encode(s).length;
}

export class RecordAccumulator<T = unknown> {
  readonly #limits: AccumulatorLimits;
  readonly #queues = new Map<string, Queue<T>>();
  #flushing = 0;

  readonly #onFull: ((topic: string, partition: number) => void) | undefined;

  /** `onFull` hears of each append that leaves its partition holding a whole batch. */
  constructor(limits: AccumulatorLimits, onFull?: (topic: string, partition: number) => void) {
    this.#limits = limits;
    this.#onFull = onFull;
  }

  #queue(topic: string, partition: number): Queue<T> {
    const key = `${topic}\u0000${partition}`;
    let q = this.#queues.get(key);
    if (!q) {
      q = { topic, partition, records: [], bytes: 0, inFlight: 0 };
      this.#queues.set(key, q);
    }
    return q;
  }

  append(topic: string, partition: number, record: ProducerRecord, handle: T, now: number): PendingRecord<T> {
    const pending: PendingRecord<T> = { record, bytes: recordBytes(record), enqueuedAt: now, handle };
    const q = this.#queue(topic, partition);
    q.records.push(pending);
    q.bytes += pending.bytes;
    if (this.#onFull && this.#isFull(q)) this.#onFull(topic, partition);
    return pending;
  }

  /** Takes a record out that has not been drained yet (an aborted send). Returns false if it is in a batch already. */
  remove(topic: string, partition: number, pending: PendingRecord<T>): boolean {
    const q = this.#queue(topic, partition);
    const i = q.records.indexOf(pending);
    if (i < 0) return false;
    q.records.splice(i, 1);
    q.bytes -= pending.bytes;
    return true;
  }

  /** Whether the queue holds a whole batch (batchSize records or batchBytes bytes). */
  #isFull(q: Queue<T>): boolean {
    return q.records.length >= this.#limits.batchSize || q.bytes >= this.#limits.batchBytes;
  }

  /** Whether the partition could send a batch now, if one were ready. */
  #hasSlot(q: Queue<T>, canPipeline: CanPipeline | undefined): boolean {
    if (q.inFlight === 0) return true;
    return q.inFlight < this.#limits.maxInFlight && canPipeline !== undefined && canPipeline(q.topic, q.partition);
  }

  #isReady(q: Queue<T>, now: number, canPipeline: CanPipeline | undefined): boolean {
    if (q.records.length === 0 || !this.#hasSlot(q, canPipeline)) return false;
    return this.#flushing > 0 || this.#isFull(q) || now - q.records[0].enqueuedAt >= this.#limits.lingerMs;
  }

  /** Takes every batch that is ready now; each counts as in flight for its partition until `complete()`. */
  drainReady(now: number, canPipeline?: CanPipeline): Batch<T>[] {
    const out: Batch<T>[] = [];
    for (const q of this.#queues.values()) {
      while (this.#isReady(q, now, canPipeline)) out.push(this.#take(q));
    }
    return out;
  }

  #take(q: Queue<T>): Batch<T> {
    let count = 0;
    let bytes = 0;
    // At least one record, even one above batchBytes (the broker judges it).
    while (
      count < q.records.length &&
      count < this.#limits.batchSize &&
      (count === 0 || bytes + q.records[count].bytes <= this.#limits.batchBytes)
    ) {
      bytes += q.records[count].bytes;
      count++;
    }
    const records = q.records.splice(0, count);
    q.bytes -= bytes;
    q.inFlight++;
    return { topic: q.topic, partition: q.partition, records, bytes };
  }

  /** Marks one of a partition's batches done, so another may go. */
  complete(topic: string, partition: number): void {
    const q = this.#queue(topic, partition);
    q.inFlight = Math.max(0, q.inFlight - 1);
    if (q.inFlight === 0 && q.records.length === 0) this.#queues.delete(`${topic}\u0000${partition}`);
  }

  /**
   * Milliseconds until the next batch becomes ready by lingering, or undefined when none is waiting (or
   * every waiting partition has no free slot: `complete()` is the next event then).
   */
  nextWakeup(now: number, canPipeline?: CanPipeline): number | undefined {
    let best: number | undefined;
    for (const q of this.#queues.values()) {
      if (q.records.length === 0 || !this.#hasSlot(q, canPipeline)) continue;
      const wait = Math.max(0, q.records[0].enqueuedAt + this.#limits.lingerMs - now);
      best = best === undefined ? wait : Math.min(best, wait);
    }
    return best;
  }

  /** While a flush is under way every non-empty partition is ready at once. Returns the matching end. */
  beginFlush(): () => void {
    this.#flushing++;
    let ended = false;
    return () => {
      if (!ended) this.#flushing--;
      ended = true;
    };
  }

  /** Records waiting (not in flight). */
  get pendingCount(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.records.length;
    return n;
  }

  /** True when nothing is queued and nothing is in flight. */
  get idle(): boolean {
    for (const q of this.#queues.values()) if (q.inFlight > 0 || q.records.length > 0) return false;
    return true;
  }

  /** Removes and returns every queued record (for failing them on close). */
  takeAll(): PendingRecord<T>[] {
    const all: PendingRecord<T>[] = [];
    for (const q of this.#queues.values()) {
      all.push(...q.records);
      q.records = [];
      q.bytes = 0;
    }
    return all;
  }
}
