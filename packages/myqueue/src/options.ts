/**
 * Options of the client, its producers and consumers, with their documented defaults (`DEFAULT_*`) merged
 * by one `withDefaults()` per kind. Resolved options are frozen.
 */
import type { BackoffOptions } from './backoff.js';
import { BadRequestError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import type { Partitioner } from './partitioner.js';

export interface ClientOptions {
  /** Manager URL(s), e.g. `http://127.0.0.1:5000` or primary and replicas; any manager answers. Required. */
  readonly manager: string | readonly string[];
  /** Sent as `authorization: Bearer <token>` to managers and brokers. Default: none. */
  readonly token?: string;
  /** Default: silent. pino and console-like loggers fit. */
  readonly logger?: Logger;
  /** Time allowed for one HTTP request (long polls add their wait). Default 10000 ms. */
  readonly requestTimeoutMs?: number;
  /** How long a call keeps retrying retriable errors before it throws the last one. Default 30000 ms. */
  readonly retryTimeoutMs?: number;
  /** Backoff between retries: full jitter, 50 ms doubling up to 2000 ms by default. */
  readonly backoff?: BackoffOptions;
  /** Cached metadata older than this is refreshed before use. Default 30000 ms. */
  readonly metadataMaxAgeMs?: number;
  /** HTTP connections per manager/broker. Default 64. */
  readonly connectionsPerOrigin?: number;
  /** Send client heartbeats to the manager for registered producers/consumers. Default true. */
  readonly heartbeats?: boolean;
  /** Random source of the backoff jitter (tests). Default Math.random. */
  readonly random?: () => number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY_TIMEOUT_MS = 30_000;
export const DEFAULT_METADATA_MAX_AGE_MS = 30_000;
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 64;

export interface ResolvedClientOptions {
  readonly managers: readonly string[];
  readonly token: string | undefined;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  readonly retryTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly metadataMaxAgeMs: number;
  readonly connectionsPerOrigin: number;
  readonly heartbeats: boolean;
  readonly random: () => number;
}

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new BadRequestError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** Strips a trailing slash and checks the URL parses. */
export function normaliseUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.origin;
  } catch {
    throw new BadRequestError(`not a URL: ${JSON.stringify(url)}`);
  }
}

export function withDefaults(options: ClientOptions): ResolvedClientOptions {
  const list = typeof options.manager === 'string' ? options.manager.split(',') : [...(options.manager ?? [])];
  const managers = list
    .map((m) => m.trim())
    .filter((m) => m.length > 0)
    .map(normaliseUrl);
  if (managers.length === 0) throw new BadRequestError('`manager` must name at least one manager URL');
  return Object.freeze({
    managers: Object.freeze(managers),
    token: options.token,
    logger: options.logger ?? silentLogger,
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
    retryTimeoutMs: positive('retryTimeoutMs', options.retryTimeoutMs ?? DEFAULT_RETRY_TIMEOUT_MS, true),
    backoff: Object.freeze({ ...options.backoff }),
    metadataMaxAgeMs: positive('metadataMaxAgeMs', options.metadataMaxAgeMs ?? DEFAULT_METADATA_MAX_AGE_MS),
    connectionsPerOrigin: positive(
      'connectionsPerOrigin',
      options.connectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
    ),
    heartbeats: options.heartbeats ?? true,
    random: options.random ?? Math.random,
  });
}

export interface ProducerOptions {
  /**
   * Idempotent producer: the manager hands out a producer id, every batch carries (producerId, sequence)
   * and a retry resends the same pair, so the broker stores it once. Default true.
   */
  readonly idempotent?: boolean;
  /** 'all': a majority of replicas has the batch durably; 'leader': the leader has. Default 'all'. */
  readonly acks?: 'all' | 'leader';
  /** How long a record may wait for more records to join its batch. Default 5 ms (Kafka's linger.ms). */
  readonly lingerMs?: number;
  /** Most records in one batch (one broker request). Default 1000. */
  readonly batchSize?: number;
  /** Most bytes (keys + values + headers) in one batch. Default 512 KiB. */
  readonly batchBytes?: number;
  /**
   * Batches of one partition in flight at once (Kafka's max.in.flight.requests.per.connection). 1 to 5,
   * default 5; the broker's duplicate window is 5 batches per producer. A producer that is not idempotent
   * keeps one, since nothing would stop a retried batch from overtaking the next one.
   */
  readonly maxInFlight?: number;
  /** How long send() keeps retrying a batch before it rejects. Default: the client's retryTimeoutMs. */
  readonly deliveryTimeoutMs?: number;
  /** Create a topic (manager defaults) the first time a record is sent to it. Default false. */
  readonly allowAutoTopicCreation?: boolean;
  /** Picks the partition of a record without an explicit one. Default: murmur2 of the key, else sticky (StickyPartitions). */
  readonly partitioner?: Partitioner;
}

export const DEFAULT_LINGER_MS = 5;
export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_BATCH_BYTES = 512 * 1024;
export const DEFAULT_MAX_IN_FLIGHT = 5;
/** The broker remembers a producer's last 5 batches per partition (its duplicate window). */
export const MAX_IN_FLIGHT_LIMIT = 5;

export type ResolvedProducerOptions = Readonly<Required<Omit<ProducerOptions, 'partitioner'>>> & {
  readonly partitioner: Partitioner | undefined;
};

export function producerDefaults(options: ProducerOptions, client: ResolvedClientOptions): ResolvedProducerOptions {
  const batchSize = positive('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE);
  if (batchSize > 100_000) throw new BadRequestError('batchSize must be at most 100000');
  const idempotent = options.idempotent ?? true;
  const maxInFlight = positive('maxInFlight', options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  if (!Number.isInteger(maxInFlight) || maxInFlight > MAX_IN_FLIGHT_LIMIT)
    throw new BadRequestError(`maxInFlight must be an integer from 1 to ${MAX_IN_FLIGHT_LIMIT}, got ${maxInFlight}`);
  return Object.freeze({
    idempotent,
    acks: options.acks ?? 'all',
    lingerMs: positive('lingerMs', options.lingerMs ?? DEFAULT_LINGER_MS, true),
    batchSize,
    batchBytes: positive('batchBytes', options.batchBytes ?? DEFAULT_BATCH_BYTES),
    maxInFlight: idempotent ? maxInFlight : 1,
    deliveryTimeoutMs: positive('deliveryTimeoutMs', options.deliveryTimeoutMs ?? client.retryTimeoutMs, true),
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
    partitioner: options.partitioner,
  });
}

export interface ConsumerOptions {
  /** Topics to read; every partition of each is read. Required. */
  readonly topics: readonly string[];
  /**
   * Continue as an existing consumer (its committed positions). Default: register a new consumer, whose
   * positions start at the beginning of each partition.
   */
  readonly consumerId?: number;
  /** Where to start: the committed position, or the first/next offset of each partition. Default 'committed'. */
  readonly startAt?: 'committed' | 'earliest' | 'latest';
  /** Long poll: how long a fetch waits at the end of a partition. Default 500 ms. */
  readonly maxWaitMs?: number;
  /** Most records per fetch. Default 500. */
  readonly maxMessages?: number;
  /** Most bytes per fetch (at least one record is always returned). Default 1 MiB. */
  readonly maxBytes?: number;
  /** Records buffered ahead of the application across partitions before fetching pauses. Default 2000. */
  readonly bufferSize?: number;
  /** Commit positions automatically. Default true. */
  readonly autoCommit?: boolean;
  /** How often automatic commits run (and once more on stop). Default 1000 ms. */
  readonly autoCommitIntervalMs?: number;
  /** Cancels the consumer: iteration ends, like stop(). */
  readonly signal?: AbortSignal;
}

export const DEFAULT_MAX_WAIT_MS = 500;
export const DEFAULT_MAX_MESSAGES = 500;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_BUFFER_SIZE = 2000;
export const DEFAULT_AUTO_COMMIT_INTERVAL_MS = 1000;

export type ResolvedConsumerOptions = Readonly<Required<Omit<ConsumerOptions, 'consumerId' | 'signal'>>> & {
  readonly consumerId: number | undefined;
  readonly signal: AbortSignal | undefined;
};

export function consumerDefaults(options: ConsumerOptions): ResolvedConsumerOptions {
  const topics = [...new Set(options.topics ?? [])];
  if (topics.length === 0) throw new BadRequestError('`topics` must name at least one topic');
  return Object.freeze({
    topics: Object.freeze(topics),
    consumerId: options.consumerId,
    startAt: options.startAt ?? 'committed',
    maxWaitMs: positive('maxWaitMs', options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, true),
    maxMessages: positive('maxMessages', options.maxMessages ?? DEFAULT_MAX_MESSAGES),
    maxBytes: positive('maxBytes', options.maxBytes ?? DEFAULT_MAX_BYTES),
    bufferSize: positive('bufferSize', options.bufferSize ?? DEFAULT_BUFFER_SIZE),
    autoCommit: options.autoCommit ?? true,
    autoCommitIntervalMs: positive(
      'autoCommitIntervalMs',
      options.autoCommitIntervalMs ?? DEFAULT_AUTO_COMMIT_INTERVAL_MS,
    ),
    signal: options.signal,
  });
}
