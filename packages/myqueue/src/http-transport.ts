/**
 * JSON over HTTP/1.1 with one keep-alive undici Pool per origin (manager or broker). Failure bodies become
 * typed errors; transport failures become UnavailableError/TimeoutError (errors.ts).
 */
import { Pool } from 'undici';
import { errorFromResponse, toMyQueueError } from './errors.js';

export interface HttpRequest {
  /** Origin, e.g. http://127.0.0.1:7001 */
  readonly origin: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly body?: unknown;
  /** Time allowed for the answer to start and for each body chunk. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface HttpTransportOptions {
  /** Sent as `authorization: Bearer <token>` when set. */
  readonly token?: string;
  /** Connections per origin. Long polls hold one each, so keep this above partitions per broker. */
  readonly connectionsPerOrigin: number;
}

export class HttpTransport {
  readonly #pools = new Map<string, Pool>();
  readonly #options: HttpTransportOptions;
  #closed = false;

  constructor(options: HttpTransportOptions) {
    this.#options = options;
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.#options.connectionsPerOrigin,
        pipelining: 1,
        keepAliveTimeout: 10_000,
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  /** Sends one request and returns the parsed success body; throws a MyQueueError otherwise. */
  async request<T>(req: HttpRequest): Promise<T> {
    if (this.#closed) throw toMyQueueError(new Error('client is closed'), req.origin);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (this.#options.token) headers.authorization = `Bearer ${this.#options.token}`;
    const query = req.query && Object.fromEntries(Object.entries(req.query).filter(([, v]) => v !== undefined));
    let status: number;
    let text: string;
    try {
      const res = await this.#pool(req.origin).request({
        path: req.path,
        method: req.method,
        query,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: req.signal,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      if (req.signal?.aborted) throw req.signal.reason;
      throw toMyQueueError(e, req.origin + req.path);
    }
    let parsed: unknown = undefined;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // A non-JSON answer (a proxy's error page) is reported by its status below.
    }
    if (
      status >= 400 ||
      (typeof parsed === 'object' && parsed !== null && (parsed as { status?: unknown }).status === 'failure')
    ) {
      throw errorFromResponse(parsed ?? { message: text.slice(0, 200) }, status);
    }
    return parsed as T;
  }

  /** Closes every pool; requests still running are cut off. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }
}
