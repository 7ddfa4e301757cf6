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
import { brokerRoutes, type ProduceRequest, type ProduceResponse, type ProducerRecord } from '@myqueue/protocol';
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
import { createDefaultPartitioner, type Partitioner } from './partitioner.js';
import { RecordAccumulator, type Batch } from './record-accumulator.js';

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

interface Handle {
  resolve(offset: number): void;
  reject(error: unknown): void;
}

interface SequenceState {
  producerId: number;
  next: number;
}

export class Producer {
  readonly #ctx: ClientContext;
  readonly #options: ResolvedProducerOptions;
  readonly #partitioner: Partitioner;
  readonly #acc: RecordAccumulator<Handle>;
  readonly #registered = new Map<string, Promise<number>>();
  readonly #sequences = new Map<string, SequenceState>();
  readonly #idleWaiters: (() => void)[] = [];
  #registration: Promise<unknown> = Promise.resolve();
  #producerId: number | undefined;
  #heartbeater: Heartbeater | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Infinity;
  #closed = false;
  readonly #stats = { requests: 0, batches: 0, records: 0, duplicates: 0, failedRecords: 0 };

  /** Use `MyQueue.producer()`. */
  constructor(ctx: ClientContext, options: ProducerOptions = {}) {
    this.#ctx = ctx;
    this.#options = producerDefaults(options, ctx.options);
    this.#partitioner = this.#options.partitioner ?? createDefaultPartitioner();
    this.#acc = new RecordAccumulator<Handle>(this.#options);
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
    const deadline = deadlineSignal(started + this.#options.deliveryTimeoutMs, `send to ${topic}`, signal);
    let meta;
    try {
      await untilAborted(this.#ensureTopic(topic, signal), deadline.signal);
      meta = await this.#ctx.cache.topic(topic, deadline.signal);
    } finally {
      deadline.dispose();
    }
    signal?.throwIfAborted();
    const count = meta.partitions.length;
    const partitions = messages.map((m) => {
      const partition = m.partition ?? this.#partitioner({ topic, key: m.key, partitionCount: count });
      if (!Number.isInteger(partition) || partition < 0 || partition >= count)
        throw new UnknownPartitionError(`topic ${topic} has ${count} partitions; there is no partition ${partition}`, {
          details: { topic, partition },
        });
      return partition;
    });
    const appended = messages.map((m, i) => {
      const record: ProducerRecord = {
        value: m.value,
        ...(m.key != null ? { key: m.key } : {}),
        ...(m.headers ? { headers: { ...m.headers } } : {}),
      };
      let handle!: Handle;
      const promise = new Promise<number>((resolve, reject) => (handle = { resolve, reject }));
      return {
        partition: partitions[i],
        pending: this.#acc.append(topic, partitions[i], record, handle, started),
        promise,
      };
    });
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

  /** Registers the producer for a topic once (creating the topic if allowed); resolves to the producer id. */
  #ensureTopic(topic: string, signal?: AbortSignal): Promise<number> {
    let p = this.#registered.get(topic);
    if (!p) {
      // Registrations run one at a time, so the first one creates the producer id and the others reuse it.
      p = this.#registration.then(() => this.#register(topic, signal));
      this.#registration = p.catch(() => undefined);
      this.#registered.set(topic, p);
      p.catch(() => this.#registered.delete(topic));
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
    this.#registered.clear();
  }

  #wake(): void {
    const now = Date.now();
    for (const batch of this.#acc.drainReady(now)) void this.#sendBatch(batch);
    const wait = this.#acc.nextWakeup(now);
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

  async #sendBatch(batch: Batch<Handle>): Promise<void> {
    const { topic, partition, records } = batch;
    const { options, router, http } = this.#ctx;
    let producerId: number | undefined;
    // Whether some attempt may have stored the batch: then its outcome stays unknown whatever the last
    // attempt says, and its sequence number must never be reused for other records.
    let mayBeStored = false;
    // Every wait of the batch ends by its delivery deadline, the manager's (registration, metadata) included.
    const deadline = deadlineSignal(
      records[0].enqueuedAt + this.#options.deliveryTimeoutMs,
      `batch for ${topic}/${partition}`,
    );
    try {
      const body: ProduceRequest = {
        records: records.map((r) => r.record),
        acks: this.#options.acks,
        timeoutMs: options.requestTimeoutMs,
      };
      let state: SequenceState | undefined;
      if (this.#options.idempotent) {
        producerId = await untilAborted(this.#ensureTopic(topic), deadline.signal);
        const key = `${topic}\u0000${partition}`;
        state = this.#sequences.get(key);
        if (!state || state.producerId !== producerId) this.#sequences.set(key, (state = { producerId, next: 0 }));
        body.producerId = producerId;
        body.sequence = state.next;
      }
      const res = await router.call(
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
        { deadline: records[0].enqueuedAt + this.#options.deliveryTimeoutMs, signal: deadline.signal },
      );
      if (state) state.next += records.length;
      this.#stats.batches++;
      this.#stats.records += records.length;
      if (res.duplicate) this.#stats.duplicates++;
      records.forEach((r, i) => r.handle.resolve(res.baseOffset + i));
    } catch (e) {
      let error = toMyQueueError(e);
      if (mayBeStored && certainlyNotApplied(error))
        error = new TimeoutError(
          `the batch may have been stored by an earlier attempt; its outcome is unknown (last attempt: ${error.message})`,
          { cause: error, details: { topic, partition } },
        );
      if (
        producerId !== undefined &&
        producerId === this.#producerId &&
        (!certainlyNotApplied(error) || error.code === 'MQ_ERR_OUT_OF_ORDER_SEQUENCE')
      )
        this.#fence(error);
      this.#stats.failedRecords += records.length;
      for (const r of records) r.handle.reject(error);
    } finally {
      deadline.dispose();
      this.#acc.complete(topic, partition);
      this.#wake();
      if (this.#acc.idle) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }
}
