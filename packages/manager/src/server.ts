import fastifySwagger from '@fastify/swagger';
import { MyQueueError, failureBody, type ErrorCode } from '@myqueue/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { checkAuth, type RouteAuth } from './auth.js';
import type { ManagerContext } from './context.js';
import { routeWrite } from './forwarder.js';
import { adminRoutes } from './routes/admin-routes.js';
import { brokerRoutes } from './routes/broker-routes.js';
import { clientRoutes } from './routes/client-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { loggingQueueRoutes } from './routes/logging-queue-routes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Token the route needs (default 'client'). */
    auth?: RouteAuth;
    /** A write: a replica forwards it to the primary instead of serving it. */
    write?: boolean;
  }
}

/** The manager's fastify app: validation, auth, forwarding of writes, failures as `{status:"failure",...}`. */
export async function buildServer(ctx: ManagerContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log,
    bodyLimit: ctx.o.bodyLimitBytes,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON bodies, where an empty body (curl -H 'content-type: application/json' on a GET) means "no body".
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new MyQueueError('MQ_ERR_BAD_REQUEST', 'the body is not valid JSON'), undefined);
    }
  });

  await app.register(fastifySwagger, {
    openapi: { info: { title: 'myqueue manager', version: '1', description: 'Metadata, registration, health and the logging-queue API' } },
  });

  app.addHook('onRequest', (req, _reply, done) => {
    try {
      checkAuth(req.routeOptions.config.auth ?? 'client', req.headers.authorization, { cluster: ctx.o.clusterToken, client: ctx.o.clientToken });
      done();
    } catch (err) {
      done(err as Error);
    }
  });
  app.addHook('preHandler', async (req, reply) => {
    if (req.routeOptions.config.write && !ctx.election.isPrimary && (await routeWrite(ctx, req, reply)) === 'forwarded') return reply;
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    ctx.metrics.requests.inc({ route, method: req.method, status: reply.statusCode });
    ctx.metrics.duration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setNotFoundHandler(async (req, reply) => {
    await reply.code(404).send(failureBody(new MyQueueError('MQ_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
  });
  app.setErrorHandler(async (err: FastifyError | MyQueueError, req, reply) => {
    const e = toMyQueueError(err);
    if (e.code === 'MQ_ERR_INTERNAL') req.log.error({ err }, 'request failed');
    ctx.metrics.errors.inc({ route: req.routeOptions.url ?? 'unknown', code: e.code });
    await reply.code(e.status).send(failureBody(e));
  });

  await app.register(brokerRoutes(ctx));
  await app.register(clientRoutes(ctx));
  await app.register(healthRoutes(ctx));
  await app.register(adminRoutes(ctx));
  await app.register(loggingQueueRoutes(ctx));

  app.get('/docs', { schema: { hide: true }, config: { auth: 'open' } }, () => app.swagger());
  app.get('/metrics', { schema: { hide: true }, config: { auth: 'open' } }, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
  return app as unknown as FastifyInstance;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'MQ_ERR_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'MQ_ERR_BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MQ_ERR_BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MQ_ERR_BAD_REQUEST',
  FST_ERR_VALIDATION: 'MQ_ERR_BAD_REQUEST',
};

/** Any error as a wire error: ours as they are, fastify's by their code, everything else as internal (no details). */
export function toMyQueueError(err: unknown): MyQueueError {
  if (err instanceof MyQueueError) return err;
  const f = err as Partial<FastifyError>;
  if (f.validation) return new MyQueueError('MQ_ERR_BAD_REQUEST', f.message ?? 'invalid request');
  const mapped = f.code ? FASTIFY_CODES[f.code] : undefined;
  if (mapped) return new MyQueueError(mapped, f.message ?? mapped);
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) return new MyQueueError('MQ_ERR_BAD_REQUEST', f.message ?? 'bad request');
  return new MyQueueError('MQ_ERR_INTERNAL', 'internal error; see the manager log');
}
