/**
 * The classic interface of the original logging-queue assignment, on top of the modern client:
 * MyProducer/MyConsumer bound to a list of topics, plus createTopic/listTopics.
 *
 * @example
 * const producer = new MyProducer({ topics: ['T1'], manager: 'http://127.0.0.1:5000' });
 * await producer.ready();
 * if (producer.canSend('T1')) await producer.send('T1', 'a log line');
 * await producer.stop();
 *
 * const consumer = new MyConsumer({ topics: ['T1'], manager: 'http://127.0.0.1:5000' });
 * for await (const { topic, partition, offset, message } of consumer.getNext()) console.log(message);
 */
import type { TopicMetadata } from '@myqueue/protocol';
import type { Consumer } from './consumer.js';
import { NotRegisteredError, closedError } from './errors.js';
import { MyQueue } from './myqueue.js';
import type { ClientOptions, ConsumerOptions, ProducerOptions } from './options.js';
import type { Producer, RecordMetadata } from './producer.js';

export interface MyProducerOptions extends Omit<ClientOptions, 'manager'>, ProducerOptions {
  readonly topics: readonly string[];
  /** Manager URL(s). */
  readonly manager: ClientOptions['manager'];
}

/** A producer registered for a fixed list of topics (created with the manager's defaults when missing). */
export class MyProducer {
  readonly #client: MyQueue;
  readonly #producer: Producer;
  readonly #topics: ReadonlySet<string>;
  readonly #ready: Promise<void>;
  #registered = false;
  #stopped = false;

  constructor(options: MyProducerOptions) {
    const { topics, lingerMs, ...rest } = options;
    this.#client = new MyQueue(rest);
    // Like the original API: registering for a topic creates it; each send is its own request unless
    // sends overlap, then they share batches.
    this.#producer = this.#client.producer({ allowAutoTopicCreation: true, ...rest, lingerMs: lingerMs ?? 0 });
    this.#topics = new Set(topics);
    this.#ready = this.#producer.connect([...this.#topics]).then(() => {
      this.#registered = true;
    });
    // A failed registration surfaces through ready() and send(); it must not crash the process meanwhile.
    this.#ready.catch(() => undefined);
  }

  /** Resolves once the producer is registered for all its topics; rejects if registration failed. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** True when the producer is registered (for `topic`, if given) and not stopped. */
  canSend(topic?: string): boolean {
    return this.#registered && !this.#stopped && (topic === undefined || this.#topics.has(topic));
  }

  /** Appends one message; resolves to where it was stored once it is durable. */
  async send(topic: string, message: string): Promise<RecordMetadata> {
    if (this.#stopped) throw closedError('producer');
    if (!this.#topics.has(topic))
      throw new NotRegisteredError(`this producer is not registered for topic ${topic}`, { details: { topic } });
    await this.#ready;
    const [meta] = await this.#producer.send({ topic, messages: [{ value: message }] });
    return meta;
  }

  /** Sends what is queued, then releases the connections. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#client.close();
  }
}

export interface MyConsumerOptions extends Omit<ClientOptions, 'manager'>, Omit<ConsumerOptions, 'topics'> {
  readonly topics: readonly string[];
  readonly manager: ClientOptions['manager'];
}

/** A message as the classic consumer yields it. */
export interface ClassicMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly message: string;
}

/** A consumer of every partition of a fixed list of topics, each message delivered once, in partition order. */
export class MyConsumer {
  readonly #client: MyQueue;
  readonly #consumer: Consumer;

  constructor(options: MyConsumerOptions) {
    const { topics, ...rest } = options;
    this.#client = new MyQueue(rest);
    this.#consumer = this.#client.consumer({ ...rest, topics });
  }

  /** The consumer id at the manager, once connected. */
  get consumerId(): number | undefined {
    return this.#consumer.consumerId;
  }

  /** Messages as they arrive, across the consumer's topics; ends when stop() is called. */
  async *getNext(): AsyncGenerator<ClassicMessage, void, undefined> {
    for await (const m of this.#consumer)
      yield { topic: m.topic, partition: m.partition, offset: m.offset, message: m.value };
  }

  /** How many messages of `topic` this consumer has not received yet. */
  size(topic: string): Promise<number> {
    return this.#consumer.size(topic);
  }

  /** Ends getNext(), commits the position, releases the connections. */
  async stop(): Promise<void> {
    await this.#client.close();
  }
}

export interface AdminOptions extends Omit<ClientOptions, 'manager'> {
  readonly manager: ClientOptions['manager'];
}

/** Creates a topic (`partitions` and `replicationFactor` default to the manager's settings). */
export async function createTopic(
  options: AdminOptions & { topic: string; partitions?: number; replicationFactor?: number },
): Promise<TopicMetadata> {
  const { topic, partitions, replicationFactor, ...rest } = options;
  const client = new MyQueue(rest);
  try {
    return await client.createTopic({ name: topic, partitions, replicationFactor });
  } finally {
    await client.close();
  }
}

/** Names of every topic. */
export async function listTopics(options: AdminOptions): Promise<string[]> {
  const client = new MyQueue(options);
  try {
    return await client.listTopics();
  } finally {
    await client.close();
  }
}
