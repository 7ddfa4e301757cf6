import type { IncomingMessage } from 'node:http';
import { MyQueueError } from '@myqueue/protocol';
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';

/**
 * Parameters of a logging-queue request: the JSON body and the query string merged (the query string wins
 * on a clash), `topic_name` accepted for `topic` (and `name` too when creating a topic).
 */
export function mergeParams<T extends object>(query: T | undefined, body: T | undefined | null): T {
  const b = body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {};
  return { ...b, ...(query ?? {}) } as T;
}

/** The topic a request names, through any of the accepted field names; a 400 when none. */
export function topicOf(p: { topic?: string | undefined; topic_name?: string | undefined; name?: string | undefined }): string {
  const topic = p.topic ?? p.topic_name ?? p.name;
  if (topic === undefined) throw new MyQueueError('MQ_ERR_BAD_REQUEST', "missing 'topic' (or 'topic_name')");
  return topic;
}

/** A required field of a logging-queue request; a 400 naming it when absent. */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new MyQueueError('MQ_ERR_BAD_REQUEST', `missing '${name}'`);
  return value;
}

/** Integer fields of the logging-queue API: accepted as JSON numbers or as decimal strings (query strings). */
const INTEGER_FIELDS = new Set(['producer_id', 'consumer_id', 'partition', 'partitions', 'replication_factor']);

/**
 * Query-string values arrive as strings: integer fields written in decimal become numbers (and only those:
 * '1.5' or 'abc' stay strings and fail validation; a schema-driven conversion would truncate 1.5 to 1),
 * and a message sent as a JSON number or boolean is kept as its text.
 */
function convert(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p };
  for (const [k, v] of Object.entries(out)) {
    if (INTEGER_FIELDS.has(k) && typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim())) out[k] = Number(v.trim());
    if (k === 'message' && (typeof v === 'number' || typeof v === 'boolean')) out[k] = String(v);
  }
  return out;
}

/**
 * The parameters of a logging-queue request, validated against `schema` after merging the query string and
 * the JSON body (fastify validates neither a GET body nor the merge): integers given as strings are
 * converted, anything else wrong is a 400 naming the field.
 */
export function legacyInput<S extends TSchema>(schema: S, query: unknown, body: unknown): Static<S> {
  const value = convert(mergeParams(query as Record<string, unknown> | undefined, body as Record<string, unknown> | undefined | null));
  if (!Value.Check(schema, value)) {
    const first = Value.Errors(schema, value)[0];
    const field = first?.instancePath.replace(/^\//, '') || 'request';
    throw new MyQueueError('MQ_ERR_BAD_REQUEST', `${field} ${first?.message ?? 'is invalid'}`);
  }
  return value;
}

/**
 * The JSON body of a GET request (fastify parses bodies only for methods that usually carry one). Old
 * scripts send GET parameters as a JSON body, so the logging-queue GET routes read it here, within `limit`.
 */
export async function readGetBody(raw: IncomingMessage, limit: number): Promise<unknown> {
  const length = Number(raw.headers['content-length'] ?? 0);
  if (length === 0 && raw.headers['transfer-encoding'] === undefined) return undefined;
  if (length > limit) throw new MyQueueError('MQ_ERR_PAYLOAD_TOO_LARGE', `the body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new MyQueueError('MQ_ERR_PAYLOAD_TOO_LARGE', `the body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MyQueueError('MQ_ERR_BAD_REQUEST', 'the body is not valid JSON');
  }
}
