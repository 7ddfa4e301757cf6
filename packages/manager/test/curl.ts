/** Curl-style HTTP for end-to-end tests: any method with any body (GET with a JSON body too), raw answers. */
import { request } from 'undici';
import pg from 'pg';

export interface Answer {
  status: number;
  /** The parsed JSON body (or the text when it is not JSON). */
  body: Record<string, unknown>;
  text: string;
}

export interface CallOptions {
  /** Sent as JSON with content-type application/json (GET and DELETE included, as old scripts do). */
  json?: unknown;
  /** Sent as is. */
  raw?: string;
  query?: Record<string, string | number>;
  headers?: Record<string, string>;
}

export async function call(
  base: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  o: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers };
  let body: string | undefined = o.raw;
  if (o.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.json);
  }
  const res = await request(new URL(path, base), {
    method,
    headers,
    body,
    query: o.query,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const text = await res.body.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.statusCode, body: parsed, text };
}

/** Asserts the logging-queue failure shape: 4xx, status "failure", a message, and no stack trace. */
export function isFailure(a: Answer): boolean {
  return (
    a.status >= 400 &&
    a.status < 500 &&
    a.body.status === 'failure' &&
    typeof a.body.message === 'string' &&
    a.body.message.length > 0 &&
    !/\n\s+at /.test(a.text) &&
    !('stack' in a.body)
  );
}

/** Polls `check` every 200 ms until it returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${ms} ms${last ? ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The test Postgres server (MQ_TEST_POSTGRES_URL, default 127.0.0.1:5432), or undefined when unreachable. */
export async function reachablePostgres(): Promise<string | undefined> {
  const url = process.env.MQ_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return url;
  } catch (err) {
    console.warn(`Postgres at ${url} is not reachable (${(err as Error).message}): its tests are skipped`);
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
