/**
 * The entry point: one client per cluster, sharing HTTP pools and metadata among its producers and
 * consumers.
 *
 * @example
 * const mq = new MyQueue({ manager: 'http://127.0.0.1:5000' });
 * await mq.createTopic({ name: 'logs', partitions: 3 });
 * const producer = mq.producer();
 * await producer.send({ topic: 'logs', messages: [{ value: 'hello' }] });
 * for await (const m of mq.consumer({ topics: ['logs'] })) console.log(m.value);
 */
import type {
  ClusterStatus,
  CreateTopicRequest,
  ManagerHealth,
  MetadataResponse,
  TopicMetadata,
} from '@myqueue/protocol';
import type { ClientContext } from './client-context.js';
import { Consumer } from './consumer.js';
import { HttpTransport } from './http-transport.js';
import { ManagerClient, type CallOptions } from './manager-client.js';
import { MetadataCache } from './metadata-cache.js';
import { withDefaults, type ClientOptions, type ConsumerOptions, type ProducerOptions } from './options.js';
import { PartitionRouter } from './partition-router.js';
import { Producer } from './producer.js';

export class MyQueue {
  readonly #ctx: ClientContext;
  readonly #producers = new Set<Producer>();
  readonly #consumers = new Set<Consumer>();
  #closed = false;

  constructor(options: ClientOptions) {
    const resolved = withDefaults(options);
    const http = new HttpTransport({ token: resolved.token, connectionsPerOrigin: resolved.connectionsPerOrigin });
    const manager = new ManagerClient(http, resolved);
    const cache = new MetadataCache(manager, resolved.metadataMaxAgeMs);
    this.#ctx = Object.freeze({
      options: resolved,
      http,
      manager,
      cache,
      router: new PartitionRouter(cache, resolved),
    });
  }

  /** A new producer (idempotent, batching). Close it, or close the client, when done. */
  producer(options: ProducerOptions = {}): Producer {
    const p = new Producer(this.#ctx, options);
    this.#producers.add(p);
    return p;
  }

  /** A new consumer of every partition of `topics`. Iterate it with `for await`; stop() it when done. */
  consumer(options: ConsumerOptions): Consumer {
    const c = new Consumer(this.#ctx, options);
    this.#consumers.add(c);
    return c;
  }

  /** Creates a topic; partitions and replication factor default to the manager's settings. */
  async createTopic(request: CreateTopicRequest, options: CallOptions = {}): Promise<TopicMetadata> {
    const res = await this.#ctx.manager.createTopic(request, options);
    this.#ctx.cache.seedTopic(res.topic);
    return res.topic;
  }

  /** Names of every topic. */
  async listTopics(options: CallOptions = {}): Promise<string[]> {
    const res = await this.#ctx.manager.metadata(undefined, options);
    this.#ctx.cache.update(res);
    return res.topics.map((t) => t.name).sort();
  }

  /** Metadata of some topics (all when absent): partitions, leaders, live brokers, managers. */
  async metadata(topics?: readonly string[], options: CallOptions = {}): Promise<MetadataResponse> {
    const res = await this.#ctx.manager.metadata(topics, options);
    this.#ctx.cache.update(res);
    return res;
  }

  /** The cluster as the manager sees it: brokers, clients, partition health. */
  status(options: CallOptions = {}): Promise<ClusterStatus> {
    return this.#ctx.manager.status(options);
  }

  health(options: CallOptions = {}): Promise<ManagerHealth> {
    return this.#ctx.manager.health(options);
  }

  /** Closes every producer (flushing) and consumer (committing), then the connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const results = await Promise.allSettled([
      ...[...this.#producers].map((p) => p.close()),
      ...[...this.#consumers].map((c) => c.stop()),
    ]);
    await this.#ctx.http.close();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
