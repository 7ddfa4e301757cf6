import { Agent, request, type Dispatcher } from 'undici';
import { MyQueueError, errorFromBody } from '@myqueue/protocol';

export interface HttpResult {
  status: number;
  body: unknown;
}

/**
 * Why a call failed before any answer: `refused` means the request surely never reached the peer (safe to
 * send elsewhere); `lost` means it may have been processed (a produce must not be blindly repeated).
 */
export class TransportError extends Error {
  readonly safeToRetry: boolean;
  constructor(message: string, safeToRetry: boolean, cause: unknown) {
    super(message, { cause });
    this.name = 'TransportError';
    this.safeToRetry = safeToRetry;
  }
}

const SAFE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A small JSON-over-HTTP client on one undici Agent (keep-alive pools per origin). */
export class HttpClient {
  readonly #agent: Dispatcher;
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#agent = new Agent({ connect: { timeout: Math.min(timeoutMs, 3000) }, keepAliveTimeout: 10_000 });
  }

  async call(
    baseUrl: string,
    method: Dispatcher.HttpMethod,
    path: string,
    options: { body?: unknown; query?: Record<string, string | number>; token?: string | undefined; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const timeout = options.timeoutMs ?? this.#timeoutMs;
    try {
      const res = await request(new URL(path, baseUrl), {
        method,
        dispatcher: this.#agent,
        headers,
        query: options.query,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const text = await res.body.text();
      let body: unknown = text;
      try {
        body = text.length > 0 ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.statusCode, body };
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      throw new TransportError(`${method} ${baseUrl}${path}: ${code || (err as Error).message}`, SAFE_CODES.has(code), err);
    }
  }

  /** Like call(), but a non-2xx answer becomes the MyQueueError its body describes. */
  async json<T>(baseUrl: string, method: Dispatcher.HttpMethod, path: string, options: Parameters<HttpClient['call']>[3] = {}): Promise<T> {
    let r: HttpResult;
    try {
      r = await this.call(baseUrl, method, path, options);
    } catch (err) {
      throw new MyQueueError('MQ_ERR_UNAVAILABLE', (err as Error).message, { cause: err });
    }
    if (r.status >= 200 && r.status < 300) return r.body as T;
    throw errorFromBody(r.body, r.status);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
