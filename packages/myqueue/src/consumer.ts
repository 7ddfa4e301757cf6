/**
 * The consumer: reads every partition of its topics in offset order with long-polling fetches straight from
 * the partition leaders, and commits its positions back to the brokers (through Raft), automatically every
 * autoCommitIntervalMs and on stop. Delivery is at-least-once across restarts and exactly-once within a
 * run: a record counts as processed when the application asks for the next one (or leaves the loop).
 *
 * @example
 * const consumer = mq.consumer({ topics: ['logs'] });
 * for await (const m of consumer) console.log(m.partition, m.offset, m.value);
 */
import { setMaxListeners } from 'node:events';
import {
  brokerRoutes,
  type FetchResponse,
  type PartitionStatus,
  type SizeResponse,
  type StoredRecord,
  type TopicMetadata,
} from '@myqueue/protocol';
import { ChunkQueue } from './chunk-queue.js';
import { NETWORK_MARGIN_MS, type ClientContext } from './client-context.js';
import { UnknownPartitionError, UnknownTopicError, closedError, toMyQueueError, type MyQueueError } from './errors.js';
import { Heartbeater } from './heartbeater.js';
import { MessageIterator, type ReaderHooks } from './message-iterator.js';
import { consumerDefaults, type ConsumerOptions, type ResolvedConsumerOptions } from './options.js';
import { defaultRetryDecision, retry, sleep } from './retry.js';

/** A record as the consumer delivers it. */
export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The leader's append time, ms since epoch. */
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to fetch. */
  fetchOffset: number;
  /** Offset after the last record handed to the application. */
  delivered: number;
  /** Offset after the last record the application finished with. */
  processed: number;
  /** Last position committed to the broker. */
  committed: number;
}

/** The headers of every record sent without any: one frozen object rather than a new one per record. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class Consumer implements AsyncIterable<ConsumedMessage> {
  readonly #ctx: ClientContext;
  readonly #options: ResolvedConsumerOptions;
  readonly #partitions = new Map<string, PartitionState>();
  readonly #buffer = new ChunkQueue<PartitionState, ConsumedMessage>();
  readonly #abort = new AbortController();
  #consumerId: number | undefined;
  #connecting: Promise<void> | undefined;
  #fetchers: Promise<void>[] = [];
  #heartbeater: Heartbeater | undefined;
  #commitTimer: NodeJS.Timeout | undefined;
  #commitChain: Promise<void> = Promise.resolve();
  #wakeReader: (() => void) | undefined;
  #wakeFetchers: (() => void)[] = [];
  /** The partition and offset of the record last handed to the application, until it counts as processed. */
  #lastDelivered: PartitionState | undefined;
  #lastOffset = 0;
  #failure: MyQueueError | undefined;
  #stopped = false;
  #iterating = false;

  /** Use `MyQueue.consumer()`. */
  constructor(ctx: ClientContext, options: ConsumerOptions) {
    this.#ctx = ctx;
    this.#options = consumerDefaults(options);
    this.#consumerId = this.#options.consumerId;
    // Every fetch loop, size and status request listens on this one signal: more than Node's default of 10.
    setMaxListeners(0, this.#abort.signal);
    const signal = this.#options.signal;
    if (signal) {
      if (signal.aborted) this.#stopped = true;
      else signal.addEventListener('abort', () => void this.stop(), { once: true });
    }
  }

  /** The consumer's id at the manager (after connect()); pass it as `consumerId` to resume later. */
  get consumerId(): number | undefined {
    return this.#consumerId;
  }

  get topics(): readonly string[] {
    return this.#options.topics;
  }

  /** Registers with the manager, loads starting positions and starts fetching. Called by the first read. */
  connect(): Promise<void> {
    if (this.#stopped) return Promise.reject(closedError('consumer'));
    this.#connecting ??= this.#connect();
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const { manager, cache, options } = this.#ctx;
    const signal = this.#abort.signal;
    for (const topic of this.#options.topics) {
      const res = await manager.registerConsumer({ topic, consumerId: this.#consumerId }, { signal });
      this.#consumerId = res.consumerId;
      cache.seedTopic(res.topic);
    }
    const consumerId = this.#consumerId!;
    if (options.heartbeats) this.#heartbeater = new Heartbeater(manager, options.logger, 'consumer', consumerId);
    const starts: Promise<void>[] = [];
    for (const topic of this.#options.topics) {
      const meta = await this.#partitionsOf(topic);
      for (const p of meta.partitions) starts.push(this.#initPartition(topic, p.partition));
    }
    await Promise.all(starts);
    for (const state of this.#partitions.values()) this.#fetchers.push(this.#fetchLoop(state));
    if (this.#options.autoCommit) this.#scheduleCommit();
  }

  /**
   * The topic's metadata once it lists partitions: a topic always has some, so an answer with none (F2 in
   * docs/reliability.md) is transient; reading it as is would read nothing of the topic, silently.
   */
  #partitionsOf(topic: string): Promise<TopicMetadata> {
    const { cache, options } = this.#ctx;
    return retry(
      async () => {
        const meta = await cache.topic(topic, this.#abort.signal);
        if (meta.partitions.length > 0) return meta;
        cache.markStale(topic);
        throw new UnknownPartitionError(`the manager listed topic ${topic} with 0 partitions`, { details: { topic } });
      },
      {
        deadline: Date.now() + options.retryTimeoutMs,
        signal: this.#abort.signal,
        backoff: options.backoff,
        random: options.random,
        decide: (e) => (e.code === 'MQ_ERR_UNKNOWN_PARTITION' ? 'backoff' : defaultRetryDecision(e)),
      },
    );
  }

  async #initPartition(topic: string, partition: number): Promise<void> {
    const size = await this.#size(topic, partition);
    let start = size.position;
    if (this.#options.startAt === 'earliest') start = 0;
    else if (this.#options.startAt === 'latest') start = size.highWatermark;
    const committed = size.position;
    this.#partitions.set(key(topic, partition), {
      topic,
      partition,
      fetchOffset: start,
      delivered: start,
      processed: start,
      committed,
    });
  }

  #size(topic: string, partition: number): Promise<SizeResponse> {
    const { router, http, options } = this.#ctx;
    return router.call(
      topic,
      partition,
      (origin) =>
        http.request<SizeResponse>({
          origin,
          method: 'GET',
          path: brokerRoutes.size(topic, partition),
          query: { consumerId: this.#consumerId },
          timeoutMs: options.requestTimeoutMs,
          signal: this.#abort.signal,
        }),
      { deadline: Date.now() + options.retryTimeoutMs, signal: this.#abort.signal },
    );
  }

  async #fetchLoop(state: PartitionState): Promise<void> {
    const { router, http, options } = this.#ctx;
    const signal = this.#abort.signal;
    const { topic, partition } = state;
    while (!this.#stopped) {
      while (this.#buffered() >= this.#options.bufferSize && !this.#stopped)
        await new Promise<void>((r) => this.#wakeFetchers.push(r));
      if (this.#stopped) return;
      try {
        const res = await router.call(
          topic,
          partition,
          (origin) =>
            http.request<FetchResponse>({
              origin,
              method: 'GET',
              path: brokerRoutes.fetch(topic, partition),
              query: {
                offset: state.fetchOffset,
                maxMessages: this.#options.maxMessages,
                maxBytes: this.#options.maxBytes,
                maxWaitMs: this.#options.maxWaitMs,
              },
              timeoutMs: options.requestTimeoutMs + this.#options.maxWaitMs + NETWORK_MARGIN_MS,
              signal,
            }),
          // A consumer waits out any outage: only non-retriable errors end it.
          { deadline: Number.POSITIVE_INFINITY, signal, decide: defaultRetryDecision },
        );
        this.#accept(state, res);
      } catch (e) {
        if (this.#stopped) return;
        const error = toMyQueueError(e);
        if (error.code === 'MQ_ERR_OFFSET_OUT_OF_RANGE') {
          await this.#resetOffset(state, error);
          continue;
        }
        this.#fail(error);
        return;
      }
    }
  }

  #accept(state: PartitionState, res: FetchResponse): void {
    const messages: ConsumedMessage[] = [];
    for (const r of res.records) {
      // Never deliver an offset twice, whatever a broker answers.
      if (r.offset < state.fetchOffset) continue;
      messages.push(this.#message(state, r));
      state.fetchOffset = r.offset + 1;
    }
    if (res.nextOffset > state.fetchOffset && res.records.length === 0) state.fetchOffset = res.nextOffset;
    if (messages.length > 0) {
      this.#buffer.push(state, messages);
      this.#wakeReader?.();
    }
  }

  #message(state: PartitionState, r: StoredRecord): ConsumedMessage {
    return {
      topic: state.topic,
      partition: state.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key,
      value: r.value,
      headers: r.headers ?? NO_HEADERS,
    };
  }

  /** After MQ_ERR_OFFSET_OUT_OF_RANGE: jump to the first stored offset if we were below it, else to the end. */
  async #resetOffset(state: PartitionState, cause: MyQueueError): Promise<void> {
    const { router, http, options } = this.#ctx;
    const status = await router
      .call(
        state.topic,
        state.partition,
        (origin) =>
          http.request<PartitionStatus>({
            origin,
            method: 'GET',
            path: brokerRoutes.status(state.topic, state.partition),
            timeoutMs: options.requestTimeoutMs,
            signal: this.#abort.signal,
          }),
        { deadline: Date.now() + options.retryTimeoutMs, signal: this.#abort.signal },
      )
      .catch(() => undefined);
    if (!status) {
      await sleep(500, this.#abort.signal).catch(() => undefined);
      return;
    }
    const to = state.fetchOffset < status.logStartOffset ? status.logStartOffset : status.highWatermark;
    options.logger.warn(
      { topic: state.topic, partition: state.partition, from: state.fetchOffset, to, code: cause.code },
      'consumer offset out of range; reset',
    );
    // A position past the end (a seek too far) comes back to the end, one before the log start moves up
    // to it; positions left outside the log would be committed and fail.
    const clamp = to < state.fetchOffset ? Math.min : Math.max;
    state.fetchOffset = to;
    state.delivered = clamp(state.delivered, to);
    state.processed = clamp(state.processed, to);
  }

  #fail(error: MyQueueError): void {
    this.#failure ??= error;
    this.#wakeReader?.();
  }

  #buffered(): number {
    return this.#buffer.size;
  }

  /** The next buffered record, marked as delivered. */
  #take(): ConsumedMessage | undefined {
    const m = this.#buffer.take();
    if (!m) return undefined;
    const state = this.#buffer.lastOwner!;
    state.delivered = m.offset + 1;
    this.#lastDelivered = state;
    this.#lastOffset = m.offset;
    if (this.#wakeFetchers.length > 0 && this.#buffered() < this.#options.bufferSize)
      for (const w of this.#wakeFetchers.splice(0)) w();
    return m;
  }

  #markProcessed(): void {
    const state = this.#lastDelivered;
    if (!state) return;
    this.#lastDelivered = undefined;
    if (this.#lastOffset + 1 > state.processed) state.processed = this.#lastOffset + 1;
  }

  /**
   * What `for await (const m of consumer)` uses: the same records as messages(), through a plain iterator
   * that answers from the buffer with one resolved promise per record (an async generator costs about
   * twice as much per record, which shows at hundreds of thousands of records a second).
   */
  [Symbol.asyncIterator](): AsyncIterator<ConsumedMessage, void, undefined> {
    return new MessageIterator(this.#readerHooks);
  }

  /** The records of every subscribed partition as they arrive; ends when the consumer stops. */
  async *messages(): AsyncGenerator<ConsumedMessage, void, undefined> {
    yield* this;
  }

  /** What an iterator needs of the consumer, in the order of the original generator's loop. */
  readonly #readerHooks: ReaderHooks<ConsumedMessage> = {
    open: async () => {
      if (this.#iterating) throw new Error('a consumer can be iterated by one loop at a time');
      this.#iterating = true;
      try {
        await this.connect();
        return true;
      } catch (e) {
        this.#iterating = false;
        // Stopped (or aborted) while connecting: iteration simply ends.
        if (this.#stopped) return false;
        throw e;
      }
    },
    close: () => {
      // Leaving the loop (break, return, end, failure) means the last record was handled.
      this.#markProcessed();
      this.#iterating = false;
    },
    poll: () => {
      this.#markProcessed();
      if (this.#failure) throw this.#failure;
      if (this.#stopped) return null;
      return this.#take();
    },
    wait: async () => {
      await new Promise<void>((resolve) => (this.#wakeReader = resolve));
      this.#wakeReader = undefined;
    },
  };

  /** Commits the positions the application has finished with. Serialised: commits never overtake each other. */
  commit(): Promise<void> {
    const run = this.#commitChain.then(() => this.#commitNow());
    this.#commitChain = run.catch(() => undefined);
    return run;
  }

  async #commitNow(): Promise<void> {
    const { router, http, options } = this.#ctx;
    if (this.#consumerId === undefined) return;
    const consumerId = this.#consumerId;
    const due = [...this.#partitions.values()].filter((s) => s.processed !== s.committed);
    await Promise.all(
      due.map(async (s) => {
        const offset = s.processed;
        await router.call(
          s.topic,
          s.partition,
          (origin) =>
            http.request({
              origin,
              method: 'POST',
              path: brokerRoutes.commitOffset(s.topic, s.partition),
              body: { consumerId, offset },
              timeoutMs: options.requestTimeoutMs,
            }),
          { deadline: Date.now() + options.retryTimeoutMs },
        );
        s.committed = offset;
      }),
    );
  }

  #scheduleCommit(): void {
    if (this.#stopped) return;
    this.#commitTimer = setTimeout(() => {
      this.commit()
        .catch((e: unknown) =>
          this.#ctx.options.logger.warn({ err: e }, 'automatic commit failed; retried next interval'),
        )
        .finally(() => this.#scheduleCommit());
    }, this.#options.autoCommitIntervalMs);
    this.#commitTimer.unref();
  }

  /** Moves a partition's read position; the next record delivered from it is at `offset`. */
  seek(topic: string, partition: number, offset: number): void {
    const state = this.#partitions.get(key(topic, partition));
    if (!state)
      throw new UnknownPartitionError(`this consumer does not read ${topic}/${partition}`, {
        details: { topic, partition },
      });
    state.fetchOffset = offset;
    state.delivered = offset;
    state.processed = offset;
    this.#buffer.drop(state);
  }

  /**
   * Records of `topic` this consumer has not been handed yet (the high watermark minus its read position,
   * summed over partitions). Asks the leaders for their high watermark.
   */
  async size(topic: string): Promise<number> {
    if (!this.#options.topics.includes(topic))
      throw new UnknownTopicError(`this consumer does not read topic ${topic}`, { details: { topic } });
    await this.connect();
    let total = 0;
    const states = [...this.#partitions.values()].filter((s) => s.topic === topic);
    const sizes = await Promise.all(states.map((s) => this.#size(s.topic, s.partition)));
    sizes.forEach((res, i) => (total += Math.max(0, res.highWatermark - states[i].delivered)));
    return total;
  }

  /** The read position of each partition: offset after the last record handed out and the last committed. */
  positions(): { topic: string; partition: number; delivered: number; committed: number }[] {
    return [...this.#partitions.values()].map(({ topic, partition, delivered, committed }) => ({
      topic,
      partition,
      delivered,
      committed,
    }));
  }

  /** Stops fetching, ends iteration, commits what was processed (with autoCommit) and stops heartbeats. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // stop() called from inside the loop: the record being handled counts as processed.
    this.#markProcessed();
    clearTimeout(this.#commitTimer);
    this.#abort.abort(closedError('consumer'));
    this.#wakeReader?.();
    for (const w of this.#wakeFetchers.splice(0)) w();
    await this.#connecting?.catch(() => undefined);
    await Promise.all(this.#fetchers);
    try {
      if (this.#options.autoCommit) await this.commit();
    } finally {
      this.#heartbeater?.stop();
    }
  }
}
