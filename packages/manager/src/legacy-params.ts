import { MyQueueError } from '@myqueue/protocol';

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
