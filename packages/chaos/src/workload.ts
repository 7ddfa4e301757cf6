/**
 * The workload: producers send unique numbered messages (`p<k>-<n>`) through the myqueue client, each
 * send recorded as invoke + ok/fail/info; consumers read every partition from the start and record each
 * record they are handed. Every process has its own client, like separate applications.
 */
import { MyQueue, certainlyNotApplied, toMyQueueError, type Consumer, type Producer } from 'myqueue';
import type { HistoryWriter } from './history.js';

export interface WorkloadOptions {
  readonly managerUrl: string;
  readonly topic: string;
  readonly partitions: number;
  readonly producers: number;
  readonly consumers: number;
  /** Messages per second per producer. */
  readonly rate: number;
  /** Sends a producer may have waiting for their ack at once. */
  readonly maxInFlight: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for `work` at most `ms`; resolves to whether it finished. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long closing a client may take before the run moves on. */
const CLOSE_MS = 10_000;

class ProducerProcess {
  readonly #mq: MyQueue;
  readonly #inFlight = new Set<Promise<void>>();
  #n = 0;
  #running = true;
  #loop: Promise<void> | undefined;
  #producer: Producer | undefined;
  acked = 0;

  constructor(
    readonly name: string,
    readonly o: WorkloadOptions,
    readonly history: HistoryWriter,
    /** How long a send retries before it gives up (an unknown outcome when a request was sent). */
    readonly deliveryTimeoutMs: number,
  ) {
    this.#mq = new MyQueue({ manager: o.managerUrl, heartbeats: true });
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Batches the broker answered as already stored: retries the idempotent producer made harmless. */
  get duplicates(): number {
    return this.#producer?.stats.duplicates ?? 0;
  }

  async #run(): Promise<void> {
    const producer = this.#mq.producer({ lingerMs: 5, deliveryTimeoutMs: this.deliveryTimeoutMs });
    this.#producer = producer;
    const interval = 1000 / this.o.rate;
    let due = Date.now();
    while (this.#running) {
      if (this.#inFlight.size >= this.o.maxInFlight) {
        await Promise.race(this.#inFlight);
        continue;
      }
      const n = this.#n++;
      const id = `${this.name}-${n}`;
      const partition = n % this.o.partitions;
      this.history.write({ process: this.name, type: 'invoke', f: 'send', value: { id, partition } });
      const p = producer.send({ topic: this.o.topic, messages: [{ value: id, partition }] }).then(
        ([meta]) => {
          this.acked++;
          this.history.write({
            process: this.name,
            type: 'ok',
            f: 'send',
            value: { id, partition, offset: meta.offset },
          });
        },
        (e: unknown) => {
          const err = toMyQueueError(e);
          this.history.write({
            process: this.name,
            type: certainlyNotApplied(err) ? 'fail' : 'info',
            f: 'send',
            value: { id, partition },
            error: `${err.code}: ${err.message}`.slice(0, 200),
          });
        },
      );
      this.#inFlight.add(p);
      void p.finally(() => this.#inFlight.delete(p));
      due += interval;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      else if (wait < -1000) due = Date.now(); // fell behind (a stall): do not burst to catch up
    }
  }

  /**
   * Stops sending new messages and waits (bounded) for every send to complete; resolves to the number of
   * sends still open, which the history leaves without a completion (unknown outcome).
   */
  async stop(drainMs: number): Promise<number> {
    this.#running = false;
    await this.#loop;
    await within(Promise.all(this.#inFlight), drainMs);
    const open = this.#inFlight.size;
    if (open > 0) this.history.write({ process: this.name, type: 'info', f: 'abandoned', value: { sends: open } });
    await within(
      this.#mq.close().catch(() => undefined),
      CLOSE_MS,
    );
    return open;
  }
}

class ConsumerProcess {
  readonly #mq: MyQueue;
  #consumer: Consumer | undefined;
  #loop: Promise<void> | undefined;
  #running = true;
  #generation = 0;
  /** Next offset expected per partition, for the current consumer generation. */
  positions = new Map<number, number>();
  reads = 0;

  constructor(
    readonly name: string,
    readonly o: WorkloadOptions,
    readonly history: HistoryWriter,
  ) {
    this.#mq = new MyQueue({ manager: o.managerUrl, heartbeats: true });
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      // A consumer that fails (a non-retriable error) is replaced by a new one reading from the start,
      // recorded as a new process so its reads are checked on their own.
      const process = this.#generation === 0 ? this.name : `${this.name}.${this.#generation}`;
      this.#generation++;
      this.positions = new Map();
      const consumer = this.#mq.consumer({ topics: [this.o.topic], startAt: 'earliest', autoCommit: true });
      this.#consumer = consumer;
      try {
        for await (const m of consumer) {
          this.reads++;
          this.positions.set(m.partition, m.offset + 1);
          this.history.write({
            process,
            type: 'ok',
            f: 'read',
            value: { partition: m.partition, offset: m.offset, id: m.value },
          });
        }
      } catch (e) {
        const err = toMyQueueError(e);
        this.history.write({ process, type: 'info', f: 'consumer-failed', error: `${err.code}: ${err.message}` });
        await consumer.stop().catch(() => undefined);
        await sleep(1000);
      }
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await within(this.#consumer?.stop().catch(() => undefined) ?? Promise.resolve(), CLOSE_MS);
    await within(this.#loop ?? Promise.resolve(), CLOSE_MS);
    await within(
      this.#mq.close().catch(() => undefined),
      CLOSE_MS,
    );
  }
}

export class Workload {
  readonly producers: ProducerProcess[];
  readonly consumers: ConsumerProcess[];

  constructor(o: WorkloadOptions, history: HistoryWriter) {
    // Odd producers wait out any outage (30 s); even ones give up after 8 s, so sends with an unknown
    // outcome happen and the producer takes a new id (fencing) mid-run.
    this.producers = Array.from(
      { length: o.producers },
      (_, i) => new ProducerProcess(`p${i + 1}`, o, history, i % 2 === 0 ? 30_000 : 8_000),
    );
    this.consumers = Array.from({ length: o.consumers }, (_, i) => new ConsumerProcess(`c${i + 1}`, o, history));
  }

  start(): void {
    for (const p of this.producers) p.start();
    for (const c of this.consumers) c.start();
  }

  get acked(): number {
    return this.producers.reduce((n, p) => n + p.acked, 0);
  }

  get duplicates(): number {
    return this.producers.reduce((n, p) => n + p.duplicates, 0);
  }

  get reads(): number {
    return this.consumers.reduce((n, c) => n + c.reads, 0);
  }

  /** Stops the producers, waiting up to `drainMs` for open sends; resolves to the number still open. */
  async stopProducers(drainMs: number): Promise<number> {
    const open = await Promise.all(this.producers.map((p) => p.stop(drainMs)));
    return open.reduce((a, b) => a + b, 0);
  }

  /** Waits until every consumer has read up to `ends` (partition -> high watermark), or the deadline. */
  async waitConsumers(ends: ReadonlyMap<number, number>, deadline: number): Promise<boolean> {
    const caughtUp = () =>
      this.consumers.every((c) => [...ends].every(([p, end]) => end === 0 || (c.positions.get(p) ?? 0) >= end));
    while (!caughtUp()) {
      if (Date.now() > deadline) return false;
      await sleep(200);
    }
    return true;
  }

  stopConsumers(): Promise<void> {
    return Promise.all(this.consumers.map((c) => c.stop())).then(() => undefined);
  }
}
