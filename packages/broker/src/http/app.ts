import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MyQueueError, failureBody } from '@myqueue/protocol';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { toMyQueueError } from '../errors.js';
import type { BrokerMetrics } from '../metrics.js';
import type { RaftHost } from '../raft-host/raft-host.js';
import { adminRoutes } from './admin-routes.js';
import { dataRoutes } from './data-routes.js';

export interface HttpAppOptions {
  readonly host: RaftHost;
  readonly metrics: BrokerMetrics;
  readonly logger: FastifyBaseLogger;
  readonly clusterToken: string;
  readonly bodyLimit: number;
  readonly produceTimeoutMs: number;
  /** Longest wait of an idempotent batch for its predecessor, ms (sequence-gate.ts). */
  readonly sequenceGateMs: number;
}

export type BrokerApp = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * The broker-direct HTTP API (docs/api.md): data routes, admin routes (cluster token), /metrics and
 * OpenAPI docs at /docs. Every failure is `{"status":"failure","message","code"}` with the code's status.
 */
export async function buildHttpApp(o: HttpAppOptions): Promise<BrokerApp> {
  const app = Fastify({
    loggerInstance: o.logger,
    bodyLimit: o.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    // ids, sequences and offsets are safe integers; reject anything JSON.parse would round
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Bodies are validated as sent (no type coercion: "5" is not a number); query strings are converted.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'myqueue broker-direct API',
        version: '1',
        description: 'See docs/api.md. Admin routes need `authorization: Bearer <cluster token>`.',
      },
      components: { securitySchemes: { clusterToken: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err: FastifyError | MyQueueError | Error, request, reply) => {
    const e = wireError(err);
    if (e.code === 'MQ_ERR_INTERNAL') request.log.error({ err }, 'request failed');
    o.metrics.errors.inc({ route: request.routeOptions.url ?? 'unknown', code: e.code });
    void reply.status(e.status).send(failureBody(e));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(
        failureBody(new MyQueueError('MQ_ERR_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
      );
  });
  app.addHook('onResponse', (request, reply, done) => {
    o.metrics.requests.inc({
      route: request.routeOptions.url ?? 'unknown',
      method: request.method,
      status: String(reply.statusCode),
    });
    done();
  });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    void reply.header('content-type', o.metrics.registry.contentType);
    return o.metrics.registry.metrics();
  });

  dataRoutes(app, o);
  adminRoutes(app, o);
  return app;
}

/** Maps fastify's own errors (validation, body size, content type, JSON syntax) to wire codes. */
function wireError(err: FastifyError | MyQueueError | Error): MyQueueError {
  if (err instanceof MyQueueError) return err;
  const f = err as FastifyError;
  if (f.validation) return new MyQueueError('MQ_ERR_BAD_REQUEST', `invalid request: ${f.message}`);
  if (f.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new MyQueueError('MQ_ERR_PAYLOAD_TOO_LARGE', 'request body is larger than the limit');
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return new MyQueueError('MQ_ERR_BAD_REQUEST', f.message || 'bad request');
  }
  return toMyQueueError(err);
}
