/**
 * Calls to the manager(s): metadata, topics, registration, heartbeats, health and status. Any manager
 * answers every route; on a connection failure the next configured manager is tried, and a replica that
 * cannot forward a write names the primary (421 MQ_ERR_NOT_PRIMARY with `primaryUrl`), which is tried next.
 */
import {
  managerRoutes,
  type ClientHeartbeatRequest,
  type ClientHeartbeatResponse,
  type ClusterStatus,
  type ConsumerRegisterRequest,
  type ConsumerRegisterResponse,
  type CreateTopicRequest,
  type ManagerHealth,
  type MetadataResponse,
  type ProducerRegisterRequest,
  type ProducerRegisterResponse,
  type TopicResponse,
} from '@myqueue/protocol';
import { certainlyNotApplied, type MyQueueError } from './errors.js';
import type { HttpTransport } from './http-transport.js';
import type { ResolvedClientOptions } from './options.js';
import { defaultRetryDecision, retry, type RetryDecision } from './retry.js';
import { normaliseUrl } from './options.js';

export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Overrides the client's retryTimeoutMs for this call. */
  readonly timeoutMs?: number;
}

interface ManagerCall extends CallOptions {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly query?: Record<string, string | undefined>;
  readonly body?: unknown;
  /** A write that must not run twice: retried only when it certainly did not take effect. */
  readonly once?: boolean;
}

export class ManagerClient {
  readonly #http: HttpTransport;
  readonly #options: ResolvedClientOptions;
  readonly #managers: string[];
  #current = 0;

  constructor(http: HttpTransport, options: ResolvedClientOptions) {
    this.#http = http;
    this.#options = options;
    this.#managers = [...options.managers];
  }

  /** The manager the next call goes to. */
  get currentUrl(): string {
    return this.#managers[this.#current];
  }

  #redirect(error: MyQueueError): void {
    const primary = error.code === 'MQ_ERR_NOT_PRIMARY' ? error.details.primaryUrl : undefined;
    if (typeof primary === 'string') {
      const url = normaliseUrl(primary);
      let i = this.#managers.indexOf(url);
      if (i < 0) i = this.#managers.push(url) - 1;
      this.#current = i;
    } else if (
      error.code === 'MQ_ERR_UNAVAILABLE' ||
      error.code === 'MQ_ERR_TIMEOUT' ||
      error.code === 'MQ_ERR_NOT_PRIMARY'
    ) {
      this.#current = (this.#current + 1) % this.#managers.length;
    }
  }

  async #call<T>(call: ManagerCall): Promise<T> {
    const decide = (e: MyQueueError): RetryDecision => {
      if (call.once && !certainlyNotApplied(e)) return 'fail';
      const d = defaultRetryDecision(e);
      // With several managers, a dead one is skipped at once instead of after a backoff.
      if (d === 'backoff' && e.details.sent === false && this.#managers.length > 1) return 'now';
      return d;
    };
    return retry(
      () =>
        this.#http.request<T>({
          origin: this.currentUrl,
          method: call.method,
          path: call.path,
          query: call.query,
          body: call.body,
          timeoutMs: this.#options.requestTimeoutMs,
          signal: call.signal,
        }),
      {
        deadline: Date.now() + (call.timeoutMs ?? this.#options.retryTimeoutMs),
        signal: call.signal,
        backoff: this.#options.backoff,
        random: this.#options.random,
        decide,
        onRetry: (e) => {
          this.#redirect(e);
          this.#options.logger.debug({ code: e.code, manager: this.currentUrl }, `manager call retried: ${e.message}`);
        },
      },
    );
  }

  /** Metadata of some topics (all when `topics` is absent), live brokers and managers. */
  metadata(topics?: readonly string[], options: CallOptions = {}): Promise<MetadataResponse> {
    return this.#call({
      ...options,
      method: 'GET',
      path: managerRoutes.metadata(),
      query: { topics: topics?.join(',') },
    });
  }

  createTopic(request: CreateTopicRequest, options: CallOptions = {}): Promise<TopicResponse> {
    return this.#call({ ...options, method: 'POST', path: managerRoutes.topics(), body: request, once: true });
  }

  registerProducer(request: ProducerRegisterRequest, options: CallOptions = {}): Promise<ProducerRegisterResponse> {
    return this.#call({ ...options, method: 'POST', path: managerRoutes.producerRegister(), body: request });
  }

  registerConsumer(request: ConsumerRegisterRequest, options: CallOptions = {}): Promise<ConsumerRegisterResponse> {
    return this.#call({ ...options, method: 'POST', path: managerRoutes.consumerRegister(), body: request });
  }

  heartbeat(request: ClientHeartbeatRequest, options: CallOptions = {}): Promise<ClientHeartbeatResponse> {
    return this.#call({ ...options, method: 'POST', path: managerRoutes.clientHeartbeat(), body: request });
  }

  health(options: CallOptions = {}): Promise<ManagerHealth> {
    return this.#call({ ...options, method: 'GET', path: managerRoutes.health() });
  }

  status(options: CallOptions = {}): Promise<ClusterStatus> {
    return this.#call({ ...options, method: 'GET', path: managerRoutes.status() });
  }
}
