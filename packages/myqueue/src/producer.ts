/**
 * The producer: `send({ topic, messages })` resolves to each record's offset once the batch it travelled in
 * is durably acknowledged. Concurrent sends are batched per partition (linger/batch-size, one request per
 * partition in flight); each batch goes straight to the partition's leader. Idempotent by default: the
 * manager hands out a producer id, each batch carries (producerId, sequence of its first record), and a
 * retry resends the same pair so the broker stores the batch once.
 *
 * @example
 * const producer = mq.producer({ lingerMs: 5 });
 * const [meta] = await producer.send({ topic: 'logs', messages: [{ key: 'host-1', value: 'hello' }] });
 * await producer.close();
 */
import {
  brokerRoutes,
  type ProduceRequest,
  type ProduceResponse,
  type ProducerRecord,
  type TopicMetadata,
} from '@myqueue/protocol';
import type { ClientContext } from './client-context.js';
import { NETWORK_MARGIN_MS } from './client-context.js';
import { deadlineSignal, untilAborted } from './deadline.js';
import {
  BadRequestError,
  TimeoutError,
  UnknownPartitionError,
  UnknownProducerError,
  certainlyNotApplied,
  closedError,
  produceMayHaveStored,
  toMyQueueError,
  type MyQueueError,
} from './errors.js';
import { Heartbeater } from './heartbeater.js';
import { producerDefaults, type ProducerOptions, type ResolvedProducerOptions } from './options.js';
import { partitionForKey, StickyPartitions, type Partitioner } from './partitioner.js';
import { RecordAccumulator, type Batch, type PendingRecord } from './record-accumulator.js';

/** One message to send. `partition` overrides the partitioner. */
export interface Message {
  readonly key?: string | null;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly partition?: number;
}

export interface SendRequest {
  readonly topic: string;
  readonly messages: readonly Message[];
  /** Aborting rejects the records still waiting; records already in a request may still be stored. */
  readonly signal?: AbortSignal;
}

function toRecord(m: Message): ProducerRecord {
  const record: ProducerRecord = { value: m.value };
  if (m.key != null) record.key = m.key;
  if (m.headers) record.headers = { ...m.headers };
  return record;
}

/** Where a record was stored. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Counters of a producer since it was created. */
export interface ProducerStats {
  /** Produce requests sent, retries included. */
  readonly requests: number;
  /** Batches acknowledged, and the records in them. */
  readonly batches: number;
  readonly records: number;
  /** Acknowledged batches the broker had already stored (a retry after an unknown outcome). */
  readonly duplicates: number;
  /** Records whose send failed. */
  readonly failedRecords: number;
}

interface Appended {
  readonly partition: number;
  readonly pending: PendingRecord<Handle>;
  readonly promise: Promise<number>;
}

interface Handle {
  resolve(offset: number): void;
  reject(error: unknown): void;
}

/** A batch's place in its partition's sequence: (producerId, first sequence), and when it settles. */
interface Slot {
  readonly producerId: number;
  readonly sequence: number;
  readonly count: number;
  /** The producer's fence count when the slot was taken. */
  readonly epoch: number;
  readonly settled: Promise<void>;
  settle(): void;
}

/** One partition's sequence numbers: the next to hand out, and the batches holding earlier ones, oldest first. */
interface Lane {
  producerId: number;
  next: number;
  /** Whether a batch under producerId was acknowledged: the partition knows the id from then on. */
  acked: boolean;
  readonly slots: Slot[];
}

const laneKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const OUT_OF_ORDER = 'MQ_ERR_OUT_OF_ORDER_SEQUENCE';

export class Producer {
  readonly #ctx: ClientContext;
  readonly #options: ResolvedProducerOptions;
  /** The application's partitioner, if it gave one; else murmur2 for keys and #sticky for the rest. */
  readonly #partitioner: Partitioner | undefined;
  readonly #sticky = new StickyPartitions();
  readonly #acc: RecordAccumulator<Handle>;
  readonly #registered = new Map<string, Promise<number>>();
  /** Topics whose registration has resolved (a subset of #registered's keys). */
  readonly #readyTopics = new Set<string>();
  readonly #lanes = new Map<string, Lane>();
  readonly #idleWaiters: (() => void)[] = [];
  #registration: Promise<unknown> = Promise.resolve();
  /** The last send waiting for the manager, and how many are: later sends queue after them. */
  #prepareTail: Promise<void> = Promise.resolve();
  #preparing = 0;
  #producerId: number | undefined;
  /** How often the producer took a new id: a slot from an earlier epoch can no longer be continued in order. */
  #epoch = 0;
  #heartbeater: Heartbeater | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Infinity;
  #closed = false;
  readonly #stats = { requests: 0, batches: 0, records: 0, duplicates: 0, failedRecords: 0 };

  /** Use `MyQueue.producer()`. */
  constructor(ctx: ClientContext, options: ProducerOptions = {}) {
    this.#ctx = ctx;
    this.#options = producerDefaults(options, ctx.options);
    this.#partitioner = this.#options.partitioner;
    // A partition holding a whole batch takes no more keyless records: the next partition does.
    this.#acc = new RecordAccumulator<Handle>(this.#options, (topic, partition) =>
      this.#sticky.moveOn(topic, partition),
    );
  }

  /** The id the manager gave this producer (after the first registration), used for idempotence. */
  get producerId(): number | undefined {
    return this.#producerId;
  }

  /** Request, batch and record counters (a snapshot). */
  get stats(): ProducerStats {
    return { ...this.#stats };
  }

  /** Registers the producer for topics ahead of the first send (optional; send registers on demand). */
  async connect(topics: readonly string[] = [], signal?: AbortSignal): Promise<void> {
    for (const t of topics) await this.#ensureTopic(t, signal);
  }

  /** Sends messages to one topic; resolves to their offsets, in order, after the durable ack. */
  async send(request: SendRequest): Promise<RecordMetadata[]> {
    if (this.#closed) throw closedError('producer');
    // The delivery timeout counts from here: waiting for the manager is part of it (docs/reliability.md F3).
    const started = Date.now();
    const { topic, messages, signal } = request;
    if (typeof topic !== 'string' || topic.length === 0) throw new BadRequestError('send() needs a topic');
    const list: unknown = messages;
    if (!Array.isArray(list) || list.length === 0) throw new BadRequestError('send() needs at least one message');
    for (const m of messages)
      if (typeof m?.value !== 'string') throw new BadRequestError('every message needs a string `value`');
    signal?.throwIfAborted();
    let appended: Appended[];
    // Fast path: registered for the topic, its metadata fresh and no earlier send still waiting for the
    // manager, so nothing needs a deadline timer and the records queue in call order.
    const meta =
      this.#preparing === 0 && this.#readyTopics.has(topic) ? this.#ctx.cache.freshTopic(topic, started) : undefined;
    if (meta) appended = this.#append(topic, meta, messages, started);
    else {
      const prepared = await this.#prepare(topic, started, signal);
      try {
        signal?.throwIfAborted();
        appended = this.#append(topic, prepared.meta, messages, started);
      } finally {
        prepared.done();
      }
    }
    if (!signal && appended.length === 1) {
      // One message, nothing to abort: the common case of a send() per message, without Promise.all.
      this.#wake();
      const [a] = appended;
      return [{ topic, partition: a.partition, offset: await a.promise }];
    }
    const onAbort = () => {
      for (const a of appended) {
        this.#acc.remove(topic, a.partition, a.pending);
        a.pending.handle.reject(signal?.reason);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#wake();
    try {
      const offsets = await Promise.all(appended.map((a) => a.promise));
      return offsets.map((offset, i) => ({ topic, partition: appended[i].partition, offset }));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Queues the records with their partitions; throws before queueing any if a partition does not exist. */
  #append(topic: string, meta: TopicMetadata, messages: readonly Message[], started: number): Appended[] {
    const count = meta.partitions.length;
    // undefined: a keyless record for the sticky partition, chosen as it is queued (it may move on midway).
    const chosen = messages.map((m) => {
      const partition = m.partition ?? this.#choose(topic, m.key, count);
      if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition >= count))
        throw new UnknownPartitionError(`topic ${topic} has ${count} partitions; there is no partition ${partition}`, {
          details: { topic, partition },
        });
      return partition;
    });
    return messages.map((m, i) => {
      let handle!: Handle;
      const promise = new Promise<number>((resolve, reject) => (handle = { resolve, reject }));
      const partition = chosen[i] ?? this.#sticky.partition(topic, count);
      return { partition, pending: this.#acc.append(topic, partition, toRecord(m), handle, started), promise };
    });
  }

  #choose(topic: string, key: string | null | undefined, partitionCount: number): number | undefined {
    if (this.#partitioner) return this.#partitioner({ topic, key, partitionCount });
    return key === null || key === undefined ? undefined : partitionForKey(key, partitionCount);
  }

  /** Sends every queued record now and waits until nothing is queued or in flight. */
  async flush(): Promise<void> {
    const end = this.#acc.beginFlush();
    try {
      this.#wake();
      while (!this.#acc.idle) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    } finally {
      end();
    }
  }

  /** Flushes, then stops heartbeats. Sends after close() reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flush();
    clearTimeout(this.#timer);
    this.#heartbeater?.stop();
  }

  /**
   * Registration and fresh metadata for a send, bounded by the send's delivery deadline. Sends that wait
   * here queue their records in call order: each waits for the one before it, which calls `done()` once
   * its records are queued (or it failed).
   */
  async #prepare(
    topic: string,
    started: number,
    signal?: AbortSignal,
  ): Promise<{ meta: TopicMetadata; done: () => void }> {
    const previous = this.#prepareTail;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.#prepareTail = mine;
    this.#preparing++;
    const finish = () => {
      this.#preparing--;
      done();
    };
    const deadline = deadlineSignal(started + this.#options.deliveryTimeoutMs, `send to ${topic}`, signal);
    try {
      await untilAborted(previous, deadline.signal);
      await untilAborted(this.#ensureTopic(topic, signal), deadline.signal);
      return { meta: await this.#ctx.cache.topic(topic, deadline.signal), done: finish };
    } catch (e) {
      finish();
      throw e;
    } finally {
      deadline.dispose();
    }
  }

  /** Registers the producer for a topic once (creating the topic if allowed); resolves to the producer id. */
  #ensureTopic(topic: string, signal?: AbortSignal): Promise<number> {
    let p = this.#registered.get(topic);
    if (!p) {
      // Registrations run one at a time, so the first one creates the producer id and the others reuse it.
      p = this.#registration.then(() => this.#register(topic, signal));
      this.#registration = p.catch(() => undefined);
      this.#registered.set(topic, p);
      p.then(
        () => {
          if (this.#registered.get(topic) === p) this.#readyTopics.add(topic);
        },
        () => this.#registered.delete(topic),
      );
    }
    return p;
  }

  async #register(topic: string, signal?: AbortSignal): Promise<number> {
    const request = { topic, producerId: this.#producerId, createTopic: this.#options.allowAutoTopicCreation };
    let res;
    try {
      res = await this.#ctx.manager.registerProducer(request, { signal });
    } catch (e) {
      if (!(e instanceof UnknownProducerError) || request.producerId === undefined) throw e;
      // The manager no longer knows our id: start over with a new one.
      this.#fence(e);
      res = await this.#ctx.manager.registerProducer({ ...request, producerId: undefined }, { signal });
    }
    this.#ctx.cache.seedTopic(res.topic);
    if (this.#producerId !== res.producerId) {
      this.#producerId = res.producerId;
      if (this.#ctx.options.heartbeats) {
        if (this.#heartbeater) this.#heartbeater.id = res.producerId;
        else
          this.#heartbeater = new Heartbeater(this.#ctx.manager, this.#ctx.options.logger, 'producer', res.producerId);
      }
    }
    return res.producerId;
  }

  /**
   * After a batch whose outcome is unknown was given up on, the partition's next sequence number is
   * unknown too; a fresh producer id starts every partition's sequence over (Kafka bumps the epoch).
   */
  #fence(cause: MyQueueError): void {
    if (this.#producerId === undefined) return;
    this.#ctx.options.logger.warn(
      { producerId: this.#producerId, code: cause.code },
      'producer takes a new id after a batch with unknown outcome',
    );
    this.#producerId = undefined;
    this.#epoch++;
    this.#registered.clear();
    this.#readyTopics.clear();
  }

  /**
   * A partition may have several batches in flight once the id is known without asking the manager and
   * the partition has acknowledged a batch under it (a partition takes any first sequence from an id it has
   * never seen, so a first batch overtaken by the next one would lose its place). After a fence, the
   * batches still holding the old id finish (or move to the new id) before new ones go beside them.
   */
  readonly #canPipeline = (topic: string, partition: number): boolean => {
    if (this.#options.maxInFlight <= 1 || !this.#readyTopics.has(topic)) return false;
    const lane = this.#lanes.get(laneKey(topic, partition));
    return (
      lane !== undefined &&
      lane.acked &&
      lane.producerId === this.#producerId &&
      lane.slots.every((s) => s.producerId === this.#producerId)
    );
  };

  #wake(): void {
    const now = Date.now();
    for (const batch of this.#acc.drainReady(now, this.#canPipeline)) {
      this.#sticky.moveOn(batch.topic, batch.partition);
      void this.#sendBatch(batch);
    }
    const wait = this.#acc.nextWakeup(now, this.#canPipeline);
    if (wait === undefined) return;
    const due = now + wait;
    if (this.#timer && this.#timerDue <= due) return;
    clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = Infinity;
      this.#wake();
    }, wait);
  }

  /** Hands a batch its partition's next sequence numbers under `producerId` (the current id). */
  #takeSlot(topic: string, partition: number, count: number, producerId: number): Slot {
    const key = laneKey(topic, partition);
    let lane = this.#lanes.get(key);
    if (!lane) this.#lanes.set(key, (lane = { producerId, next: 0, acked: false, slots: [] }));
    else if (lane.producerId !== producerId) {
      // A new producer id starts every partition's sequence over (Kafka bumps the epoch).
      lane.producerId = producerId;
      lane.next = 0;
      lane.acked = false;
    }
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const slot: Slot = { producerId, sequence: lane.next, count, epoch: this.#epoch, settled, settle };
    lane.next += count;
    lane.slots.push(slot);
    return slot;
  }

  /** Registers when needed, then takes a slot; an id made stale by a fence while waiting is never used. */
  async #registeredSlot(topic: string, partition: number, count: number, signal: AbortSignal): Promise<Slot> {
    for (;;) {
      const registration = this.#ensureTopic(topic);
      const producerId = await untilAborted(registration, signal);
      if (producerId === this.#producerId) return this.#takeSlot(topic, partition, count, producerId);
      // A registration answered with an id that is no longer ours: register this topic again.
      if (this.#registered.get(topic) === registration) {
        this.#registered.delete(topic);
        this.#readyTopics.delete(topic);
      }
    }
  }

  /** Waits until the batches ahead of `slot` in its partition settled; returns how many there were. */
  async #aheadSettled(topic: string, partition: number, slot: Slot, signal: AbortSignal): Promise<number> {
    const lane = this.#lanes.get(laneKey(topic, partition));
    const ahead = lane ? lane.slots.slice(0, Math.max(0, lane.slots.indexOf(slot))) : [];
    if (ahead.length > 0) await untilAborted(Promise.all(ahead.map((s) => s.settled)), signal);
    return ahead.length;
  }

  #releaseSlot(topic: string, partition: number, slot: Slot): void {
    const lane = this.#lanes.get(laneKey(topic, partition));
    const i = lane ? lane.slots.indexOf(slot) : -1;
    if (lane && i >= 0) lane.slots.splice(i, 1);
    slot.settle();
  }

  /**
   * A failed batch leaves a gap in its partition's sequence. The last batch handed out gives its numbers
   * back when it was certainly not stored; any other gap needs a new producer id.
   */
  #afterFailure(topic: string, partition: number, slot: Slot, error: MyQueueError): void {
    if (slot.producerId !== this.#producerId) return; // fenced already
    const lane = this.#lanes.get(laneKey(topic, partition));
    const isLast =
      lane !== undefined &&
      lane.producerId === slot.producerId &&
      lane.slots[lane.slots.length - 1] === slot &&
      lane.next === slot.sequence + slot.count;
    if (isLast && certainlyNotApplied(error) && error.code !== OUT_OF_ORDER) lane.next = slot.sequence;
    else this.#fence(error);
  }

  async #sendBatch(batch: Batch<Handle>): Promise<void> {
    const { topic, partition, records } = batch;
    const { options, router, http } = this.#ctx;
    const deadlineAt = records[0].enqueuedAt + this.#options.deliveryTimeoutMs;
    // Whether some attempt may have stored the batch: then its outcome stays unknown whatever the last
    // attempt says, and its sequence number must never be reused for other records.
    let mayBeStored = false;
    let slot: Slot | undefined;
    // Every wait of the batch ends by its delivery deadline, the manager's (registration, metadata) included.
    const deadline = deadlineSignal(deadlineAt, `batch for ${topic}/${partition}`);
    try {
      const body: ProduceRequest = {
        records: records.map((r) => r.record),
        acks: this.#options.acks,
        timeoutMs: options.requestTimeoutMs,
      };
      if (this.#options.idempotent) {
        // Taken before the first await when the id is known, so batches get their numbers in drain order.
        slot =
          this.#readyTopics.has(topic) && this.#producerId !== undefined
            ? this.#takeSlot(topic, partition, records.length, this.#producerId)
            : await this.#registeredSlot(topic, partition, records.length, deadline.signal);
        body.producerId = slot.producerId;
        body.sequence = slot.sequence;
      }
      const attempt = (): Promise<ProduceResponse> =>
        router.call(
          topic,
          partition,
          async (origin) => {
            this.#stats.requests++;
            try {
              return await http.request<ProduceResponse>({
                origin,
                method: 'POST',
                path: brokerRoutes.produce(topic, partition),
                body,
                timeoutMs: options.requestTimeoutMs + NETWORK_MARGIN_MS,
                signal: deadline.signal,
              });
            } catch (e) {
              // Cut off at the deadline, the request may have reached the leader.
              if (deadline.signal.aborted || produceMayHaveStored(toMyQueueError(e, origin))) mayBeStored = true;
              throw e;
            }
          },
          { deadline: deadlineAt, signal: deadline.signal },
        );
      let res: ProduceResponse | undefined;
      let retriedInOrder = false;
      while (!res) {
        try {
          res = await attempt();
        } catch (e) {
          if (!slot || toMyQueueError(e).code !== OUT_OF_ORDER) throw e;
          // Pipelined batches can reach the leader out of order: wait for the ones ahead of this batch.
          const ahead = await this.#aheadSettled(topic, partition, slot, deadline.signal);
          if (slot.epoch !== this.#epoch) {
            // A fence (e.g. a batch ahead failed) means these numbers may never be in order again. The
            // batch was not stored under them unless an attempt may have been, so it takes new ones.
            if (mayBeStored) throw e;
            const stale = slot;
            slot = await this.#registeredSlot(topic, partition, records.length, deadline.signal);
            this.#releaseSlot(topic, partition, stale);
            body.producerId = slot.producerId;
            body.sequence = slot.sequence;
            // The new id is unknown to the partition: go one at a time, after the batches ahead.
            await this.#aheadSettled(topic, partition, slot, deadline.signal);
          } else if (ahead === 0) {
            // Nothing ahead any more: once more in order; a second refusal is a real gap.
            if (retriedInOrder) throw e;
            retriedInOrder = true;
          }
        }
      }
      if (slot) {
        const lane = this.#lanes.get(laneKey(topic, partition));
        if (lane?.producerId === slot.producerId) lane.acked = true;
      }
      this.#stats.batches++;
      this.#stats.records += records.length;
      if (res.duplicate) this.#stats.duplicates++;
      for (let i = 0; i < records.length; i++) records[i].handle.resolve(res.baseOffset + i);
    } catch (e) {
      let error = toMyQueueError(e);
      if (mayBeStored && certainlyNotApplied(error))
        error = new TimeoutError(
          `the batch may have been stored by an earlier attempt; its outcome is unknown (last attempt: ${error.message})`,
          { cause: error, details: { topic, partition } },
        );
      if (slot) this.#afterFailure(topic, partition, slot, error);
      this.#stats.failedRecords += records.length;
      for (const r of records) r.handle.reject(error);
    } finally {
      if (slot) this.#releaseSlot(topic, partition, slot);
      deadline.dispose();
      this.#acc.complete(topic, partition);
      this.#wake();
      if (this.#acc.idle) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }
}
