import type { Dispatcher } from 'undici';
import { MyQueueError, brokerRoutes, errorFromBody, type ConsumeResponse, type ProduceResponse, type SizeResponse } from '@myqueue/protocol';
import type { ClusterView } from './cluster-view.js';
import { TransportError, type HttpClient } from './http-client.js';
import type { PartitionRow } from './store/metadata-store.js';

export interface DataPathOptions {
  /** Give up on reaching a partition leader after this long. */
  readonly timeoutMs: number;
  readonly clusterToken: string | undefined;
}

/** Answers that mean "try another replica" rather than "this request is wrong". */
const REDIRECT_CODES = new Set(['MQ_ERR_NOT_LEADER', 'MQ_ERR_NO_LEADER', 'MQ_ERR_UNAVAILABLE', 'MQ_ERR_UNKNOWN_PARTITION']);

/**
 * The manager's side of the logging-queue data path: one call to a partition's leader, following the
 * brokers' redirections (421 naming the leader: retry there at once) and waiting out elections (503, a
 * refused connection: back off and try the next replica) until `timeoutMs`.
 */
export class DataPath {
  readonly #view: ClusterView;
  readonly #http: HttpClient;
  readonly #o: DataPathOptions;

  constructor(view: ClusterView, http: HttpClient, options: DataPathOptions) {
    this.#view = view;
    this.#http = http;
    this.#o = options;
  }

  /**
   * Sends `method path` to the leader of `p`. `idempotent` false (a produce, a consume-next) means a request
   * that may have reached a broker is never repeated: the caller gets MQ_ERR_TIMEOUT, outcome unknown.
   */
  async toLeader<T>(p: PartitionRow, method: Dispatcher.HttpMethod, path: string, body: unknown, query: Record<string, string | number> | undefined, idempotent: boolean): Promise<T> {
    const deadline = Date.now() + this.#o.timeoutMs;
    const live = await this.#view.liveBrokerIds();
    const others = [...p.replicas.filter((r) => live.has(r)), ...p.replicas.filter((r) => !live.has(r))];
    let candidate = await this.#view.leaderOf(p);
    let next = 0;
    let lastError: MyQueueError = new MyQueueError('MQ_ERR_NO_LEADER', `no leader for ${p.topic}/${p.partition} within ${this.#o.timeoutMs} ms`);
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const target = candidate && live.has(candidate) ? candidate : others[next++ % others.length];
      candidate = null;
      const broker = target ? await this.#view.broker(target) : undefined;
      if (!broker) {
        await sleep(backoff(attempt));
        continue;
      }
      let res;
      try {
        res = await this.#http.call(broker.url, method, path, { body, query, token: this.#o.clusterToken, timeoutMs: Math.max(1, deadline - Date.now()) });
      } catch (err) {
        if (err instanceof TransportError && (err.safeToRetry || idempotent)) {
          lastError = new MyQueueError('MQ_ERR_UNAVAILABLE', err.message, { cause: err });
          await sleep(backoff(attempt));
          continue;
        }
        throw new MyQueueError('MQ_ERR_TIMEOUT', `broker ${broker.id} did not answer for ${p.topic}/${p.partition}; the outcome is unknown`, { cause: err });
      }
      if (res.status >= 200 && res.status < 300) {
        this.#view.learnLeader(p.topic, p.partition, broker.id);
        return res.body as T;
      }
      const error = errorFromBody(res.body, res.status);
      if (!REDIRECT_CODES.has(error.code)) throw error;
      lastError = error;
      const named = typeof error.details.leader === 'string' ? error.details.leader : null;
      if (error.code === 'MQ_ERR_NOT_LEADER' && named && named !== broker.id) {
        this.#view.learnLeader(p.topic, p.partition, named);
        candidate = named;
        continue;
      }
      await sleep(backoff(attempt));
    }
    throw lastError;
  }

  /** Appends one message with acks=all; resolves once a majority has it durably. */
  produce(p: PartitionRow, message: string): Promise<ProduceResponse> {
    const body = { records: [{ value: message }], acks: 'all', timeoutMs: this.#o.timeoutMs };
    return this.toLeader<ProduceResponse>(p, 'POST', brokerRoutes.produce(p.topic, p.partition), body, undefined, false);
  }

  /** The next message at the consumer's position (advancing it through Raft), or null when none is left. */
  async consumeNext(p: PartitionRow, consumerId: number): Promise<string | null> {
    const r = await this.toLeader<ConsumeResponse>(p, 'POST', brokerRoutes.consume(p.topic, p.partition), { consumerId, maxMessages: 1, maxWaitMs: 0 }, undefined, false);
    return r.records[0]?.value ?? null;
  }

  /** Messages of `p` the consumer has not consumed yet. */
  async size(p: PartitionRow, consumerId: number): Promise<number> {
    const r = await this.toLeader<SizeResponse>(p, 'GET', brokerRoutes.size(p.topic, p.partition), undefined, { consumerId }, true);
    return r.size;
  }
}

function backoff(attempt: number): number {
  return Math.min(25 * 2 ** Math.min(attempt, 4), 400);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
