import { timingSafeEqual } from 'node:crypto';
import { MyQueueError } from '@myqueue/protocol';

/** Which token a route needs: `cluster` (brokers, admin), `client` (client routes), or none. */
export type RouteAuth = 'cluster' | 'client' | 'open';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks `authorization: Bearer <token>` for a route. A route whose token is not configured is open; the
 * cluster token also opens client routes.
 */
export function checkAuth(kind: RouteAuth, header: string | undefined, tokens: { cluster: string | undefined; client: string | undefined }): void {
  if (kind === 'open') return;
  const presented = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  const accepted = kind === 'cluster' ? [tokens.cluster] : tokens.client === undefined ? [] : [tokens.client, tokens.cluster];
  if (kind === 'cluster' && tokens.cluster === undefined) return;
  if (kind === 'client' && tokens.client === undefined) return;
  if (presented !== undefined && accepted.some((t) => t !== undefined && same(t, presented))) return;
  throw new MyQueueError('MQ_ERR_UNAUTHORIZED', presented === undefined ? 'missing bearer token' : 'wrong token');
}
