import { FORWARDED_HEADER, MyQueueError } from '@myqueue/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ManagerContext } from './context.js';
import { sleep } from './data-path.js';
import { TransportError } from './http-client.js';

/** How long a write waits for a primary (a takeover in progress) before failing with MQ_ERR_NOT_PRIMARY. */
export function primaryWaitMs(ctx: ManagerContext): number {
  return Math.min(ctx.o.requestTimeoutMs, 2 * ctx.o.leaseTtlMs + ctx.o.electionIntervalMs);
}

/**
 * A write reaching a manager that is not (or not yet) the primary. Old scripts do not retry, so during a
 * takeover the write waits, bounded by primaryWaitMs(), until some manager is primary: this one (then it
 * returns 'local' and the route serves it) or another one (the request is sent there and its answer
 * relayed). A request already forwarded once is never forwarded again (no loops during a takeover);
 * without a primary in time the answer is 421 MQ_ERR_NOT_PRIMARY with the primary's URL when known.
 */
export async function routeWrite(
  ctx: ManagerContext,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<'local' | 'forwarded'> {
  const deadline = Date.now() + primaryWaitMs(ctx);
  const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    if (ctx.election.isPrimary) return 'local';
    const primary = ctx.primary();
    if (primary && primary.id !== ctx.o.nodeId && !forwarded) {
      try {
        await forwardTo(primary.url, req, reply, ctx);
        return 'forwarded';
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        // The request may have been served before the connection broke: repeating it could register twice.
        if (!err.safeToRetry)
          throw new MyQueueError(
            'MQ_ERR_NOT_PRIMARY',
            `the primary at ${primary.url} did not answer; the outcome is unknown`,
            { cause: err, details: { primaryUrl: primary.url } },
          );
        // The primary is gone (connection refused): wait for the next one.
        lastError = err;
      }
    }
    if (Date.now() >= deadline) {
      const url = primary?.url ?? null;
      const message =
        url === null
          ? 'no primary manager right now; retry shortly'
          : forwarded
            ? 'this manager is not the primary'
            : `the primary at ${url} is unreachable; retry shortly`;
      throw new MyQueueError('MQ_ERR_NOT_PRIMARY', message, { cause: lastError, details: { primaryUrl: url } });
    }
    await sleep(Math.min(50 * 2 ** Math.min(attempt, 3), 400));
  }
}

async function forwardTo(
  primaryUrl: string,
  req: FastifyRequest,
  reply: FastifyReply,
  ctx: ManagerContext,
): Promise<void> {
  const headers: Record<string, string> = { [FORWARDED_HEADER]: ctx.o.nodeId };
  if (typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;
  const res = await ctx.http.call(primaryUrl, req.method, req.url, { body: req.body ?? undefined, headers });
  await reply.code(res.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(res.body));
}
