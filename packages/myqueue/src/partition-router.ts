/**
 * Sends a request to a partition's leader and follows it when it moves: a redirect (421 with the leader's
 * URL) is followed at once; a broker that fails is skipped for a moment and the other replicas are tried
 * (a follower redirects to the leader it knows); an election in progress or stale metadata is retried
 * with backoff after refreshing metadata from the manager. Bounded by a deadline and an AbortSignal.
 */
import { NoLeaderError, NotLeaderError, UnknownPartitionError, toMyQueueError, type MyQueueError } from './errors.js';
import type { MetadataCache } from './metadata-cache.js';
import type { ResolvedClientOptions } from './options.js';
import { defaultRetryDecision, retry, type RetryDecision } from './retry.js';

export interface PartitionCallOptions {
  /** Absolute time (Date.now() clock) after which no new attempt starts. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
  /** Overrides which errors are retried; routing errors are always handled first. */
  readonly decide?: (error: MyQueueError) => RetryDecision;
}

export class PartitionRouter {
  readonly #cache: MetadataCache;
  readonly #options: ResolvedClientOptions;

  constructor(cache: MetadataCache, options: ResolvedClientOptions) {
    this.#cache = cache;
    this.#options = options;
  }

  /** Runs `send(origin)` against the leader of `topic`/`partition` until it succeeds or gives up. */
  call<T>(
    topic: string,
    partition: number,
    send: (origin: string) => Promise<T>,
    options: PartitionCallOptions,
  ): Promise<T> {
    return retry(async () => this.#attempt(topic, partition, send, options.signal), {
      deadline: options.deadline,
      signal: options.signal,
      backoff: this.#options.backoff,
      random: this.#options.random,
      decide: (e) => (missingFromMetadata(e) ? 'backoff' : (options.decide ?? defaultRetryDecision)(e)),
      onRetry: (e, attempt, delay) =>
        this.#options.logger.debug(
          { topic, partition, code: e.code, attempt, delay },
          `partition request retried: ${e.message}`,
        ),
    });
  }

  async #attempt<T>(
    topic: string,
    partition: number,
    send: (origin: string) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const meta = await this.#cache.topic(topic, signal);
    const p = meta.partitions.find((x) => x.partition === partition);
    if (!p) {
      // Partitions are never removed: an answer without this one is transient (docs/reliability.md F2 saw
      // topics with 0 partitions). Refetch and retry until the call's deadline.
      this.#cache.markStale(topic);
      throw new UnknownPartitionError(`topic ${topic} has no partition ${partition} in the manager's metadata`, {
        details: { topic, partition, missingFromMetadata: true },
      });
    }
    const origin = this.#cache.route(topic, p);
    if (!origin) {
      this.#cache.markStale(topic);
      throw new NoLeaderError(`no broker is known for ${topic}/${partition}`, { details: { topic, partition } });
    }
    try {
      return await send(origin);
    } catch (e) {
      if (signal?.aborted) throw e;
      throw this.#learn(topic, partition, origin, toMyQueueError(e, origin));
    }
  }

  /** Updates the routing state from a failure and returns the error the retry loop should judge. */
  #learn(topic: string, partition: number, origin: string, error: MyQueueError): MyQueueError {
    switch (error.code) {
      case 'MQ_ERR_NOT_LEADER': {
        const leaderUrl = error instanceof NotLeaderError ? error.leaderUrl : null;
        const leaderId = error instanceof NotLeaderError ? error.leader : null;
        const url = leaderUrl ?? (leaderId ? this.#cache.brokerUrl(leaderId) : undefined);
        if (url && url !== origin) {
          this.#cache.learnLeader(topic, partition, url);
          return new NotLeaderError(error.message, { cause: error, details: { ...error.details, leaderUrl: url } });
        }
        // The broker knows no leader (or names itself): ask the manager, then retry with backoff.
        this.#cache.learnLeader(topic, partition, null);
        this.#cache.suspect(origin);
        this.#cache.markStale(topic);
        return new NoLeaderError(error.message, { cause: error, details: error.details });
      }
      case 'MQ_ERR_NO_LEADER':
        this.#cache.learnLeader(topic, partition, null);
        this.#cache.markStale(topic);
        return error;
      case 'MQ_ERR_UNAVAILABLE':
      case 'MQ_ERR_TIMEOUT':
        this.#cache.learnLeader(topic, partition, null);
        this.#cache.suspect(origin);
        this.#cache.markStale(topic);
        return error;
      case 'MQ_ERR_UNKNOWN_PARTITION':
      case 'MQ_ERR_UNKNOWN_TOPIC':
        // The manager lists the partition but this broker holds no replica of it (yet, or any more): the
        // metadata is stale or the replica is still being created. Refresh and retry.
        this.#cache.learnLeader(topic, partition, null);
        this.#cache.markStale(topic);
        return new NoLeaderError(`${origin} has no replica of ${topic}/${partition}: ${error.message}`, {
          cause: error,
          details: error.details,
        });
      default:
        return error;
    }
  }
}

function missingFromMetadata(e: MyQueueError): boolean {
  return e.code === 'MQ_ERR_UNKNOWN_PARTITION' && e.details.missingFromMetadata === true;
}
