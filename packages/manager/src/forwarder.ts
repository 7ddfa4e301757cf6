import { FORWARDED_HEADER, MyQueueError } from '@myqueue/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpClient } from './http-client.js';

/**
 * A replica's way to serve a write: send the same request to the primary and relay its answer. A request
 * already forwarded once is never forwarded again (no loops during a takeover); without a reachable primary
 * the answer is 421 MQ_ERR_NOT_PRIMARY with the primary's URL when known.
 */
export async function forwardToPrimary(req: FastifyRequest, reply: FastifyReply, http: HttpClient, primaryUrl: string | undefined, selfId: string): Promise<void> {
  if (req.headers[FORWARDED_HEADER] !== undefined || primaryUrl === undefined) {
    throw new MyQueueError('MQ_ERR_NOT_PRIMARY', primaryUrl === undefined ? 'no primary manager right now; retry shortly' : 'this manager is not the primary', {
      details: { primaryUrl: primaryUrl ?? null },
    });
  }
  const headers: Record<string, string> = { [FORWARDED_HEADER]: selfId };
  if (typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;
  let res;
  try {
    res = await http.call(primaryUrl, req.method, req.url, { body: req.body ?? undefined, headers });
  } catch (err) {
    throw new MyQueueError('MQ_ERR_NOT_PRIMARY', `the primary at ${primaryUrl} is unreachable; retry shortly`, { cause: err, details: { primaryUrl } });
  }
  await reply.code(res.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(res.body));
}
