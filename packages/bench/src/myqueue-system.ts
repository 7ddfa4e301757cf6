/**
 * myqueue through its client: a local cluster (manager + three broker processes, SQLite with
 * synchronous=FULL: a produce is acknowledged after a majority fsynced it), topics replicated 3 times,
 * producers with acks=all and the idempotent default.
 */
import { startLocalCluster, type LocalCluster } from '@myqueue/local-cluster';
import { createRoundRobinPartitioner, MyQueue, TopicExistsError, type Producer } from 'myqueue';
import { untilSent } from './nats-system.js';
import { countUntil, type ConsumerHandle, type ProducerHandle, type System } from './system.js';

export interface MyQueueSystemOptions {
  /** Partitions per topic (leaders spread over the brokers). */
  readonly partitions: number;
  /** Producer batch size (records) and linger (ms). */
  readonly batchSize: number;
  readonly lingerMs: number;
  /** Producer batches in flight per partition. */
  readonly maxInFlight: number;
  /** Keyless records: the client's default sticky partition, or one partition after the other. */
  readonly partitioner: 'sticky' | 'round-robin';
  /** Messages kept in flight per producer in the throughput runs. */
  readonly window: number;
  /** A Postgres server for the manager (a fresh database on it), or undefined for its embedded PGlite. */
  readonly postgresUrl?: string;
  /** Extra broker environment (e.g. NODE_OPTIONS for --cpu-prof). */
  readonly brokerEnv?: Record<string, string>;
}

interface PartitionStatusBody {
  role?: string;
  replicas?: { id: string; lag?: number }[];
}

export class MyQueueSystem implements System {
  readonly name = 'myqueue R3';
  readonly window: number;
  readonly #o: MyQueueSystemOptions;
  readonly #cluster: LocalCluster;
  readonly #mq: MyQueue;

  private constructor(cluster: LocalCluster, o: MyQueueSystemOptions) {
    this.#cluster = cluster;
    this.#o = o;
    this.window = o.window;
    // A loaded machine can take the manager more than the default 10 s to create a topic.
    this.#mq = new MyQueue({ manager: cluster.managerUrl, connectionsPerOrigin: 64, requestTimeoutMs: 30_000 });
  }

  static async start(o: MyQueueSystemOptions): Promise<MyQueueSystem> {
    const cluster = await startLocalCluster({
      brokers: 3,
      logLevel: 'warn',
      brokerEnv: o.brokerEnv,
      postgresUrl: o.postgresUrl,
      startTimeoutMs: 120_000, // a loaded machine starts four processes slowly
    });
    return new MyQueueSystem(cluster, o);
  }

  /**
   * Creates the topic and waits until every partition has elected a leader (the manager answers before
   * the brokers' first elections), so no workload measures the elections of a new topic.
   */
  async createStream(name: string, partitions = this.#o.partitions): Promise<void> {
    try {
      await this.#mq.createTopic({ name, partitions, replicationFactor: 3 });
    } catch (e) {
      // A retry after a timed-out attempt finds the topic the first attempt created.
      if (!(e instanceof TopicExistsError)) throw e;
    }
    for (let p = 0; p < partitions; p++) await this.#leaderOf(name, p);
  }

  producer(stream: string, options: { lingerMs?: number } = {}): Promise<ProducerHandle> {
    const p: Producer = this.#mq.producer({
      batchSize: this.#o.batchSize,
      lingerMs: options.lingerMs ?? this.#o.lingerMs,
      maxInFlight: this.#o.maxInFlight,
      ...(this.#o.partitioner === 'round-robin' ? { partitioner: createRoundRobinPartitioner() } : {}),
      batchBytes: Math.max(512 * 1024, this.#o.batchSize * 160),
    });
    return Promise.resolve({
      send: async (value) => {
        await p.send({ topic: stream, messages: [{ value }] });
      },
      close: () => p.close(),
    });
  }

  async readAll(stream: string, expected: number, timeoutMs: number, onMessage: () => void): Promise<number> {
    const consumer = this.#mq.consumer({
      topics: [stream],
      startAt: 'earliest',
      autoCommit: false,
      maxMessages: 5000,
      maxBytes: 4 * 1024 * 1024,
      bufferSize: 20_000,
    });
    return countUntil(consumer, expected, timeoutMs, () => consumer.stop(), onMessage);
  }

  async tail(stream: string, onValue: (value: string) => void): Promise<ConsumerHandle> {
    const consumer = this.#mq.consumer({ topics: [stream], startAt: 'latest', autoCommit: false });
    await consumer.connect();
    const loop = (async () => {
      for await (const m of consumer) onValue(m.value);
    })();
    return {
      stop: async () => {
        await consumer.stop();
        await loop;
      },
    };
  }

  readonly failoverRound = async (stream: string): Promise<number> => {
    const producer = await this.producer(stream, { lingerMs: 0 });
    try {
      await producer.send('warm-up');
      const leader = await this.#leaderOf(stream);
      const killedAt = performance.now();
      await this.#cluster.killBroker(leader.id, 'SIGKILL');
      const elapsed = await untilSent(producer, killedAt);
      await this.#cluster.startBroker(leader.id);
      await this.#waitCaughtUp(stream);
      return elapsed;
    } finally {
      await producer.close();
    }
  };

  async #status(url: string, stream: string, partition = 0): Promise<PartitionStatusBody | undefined> {
    try {
      const res = await fetch(`${url}/v1/partitions/${stream}/${partition}/status`, {
        signal: AbortSignal.timeout(2000),
      });
      return res.ok ? ((await res.json()) as PartitionStatusBody) : undefined;
    } catch {
      return undefined;
    }
  }

  async #leaderOf(stream: string, partition = 0): Promise<{ id: string; url: string }> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      for (const b of this.#cluster.brokers) {
        if (b.pid === undefined) continue;
        if ((await this.#status(b.url, stream, partition))?.role === 'leader') return b;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`partition ${stream}/${partition} has no leader`);
  }

  /** Waits until the partition's leader sees every replica with no lag. */
  async #waitCaughtUp(stream: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const leader = await this.#leaderOf(stream);
      const s = await this.#status(leader.url, stream);
      const replicas = s?.replicas ?? [];
      if (replicas.length === 3 && replicas.every((r) => r.lag === 0)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`partition ${stream}/0 did not catch up after the failover`);
  }

  async close(): Promise<void> {
    try {
      await this.#mq.close();
    } finally {
      await this.#cluster.stop();
    }
  }
}
