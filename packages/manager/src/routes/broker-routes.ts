import { BrokerHeartbeatRequest, BrokerHeartbeatResponse, BrokerRegisterRequest, BrokerRegisterResponse, FailureSchema, managerRoutes } from '@myqueue/protocol';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ManagerContext } from '../context.js';

/** Routes brokers call (cluster token): registration and heartbeats. Writes: a replica forwards them. */
export function brokerRoutes(ctx: ManagerContext): FastifyPluginAsyncTypebox {
  return (app) => {
    const config = { auth: 'cluster' as const, write: true };
    app.post(
      managerRoutes.brokerRegister(),
      { config, schema: { tags: ['brokers'], body: BrokerRegisterRequest, response: { 200: BrokerRegisterResponse, '4xx': FailureSchema } } },
      async (req) => {
        const row = await ctx.store.registerBroker(req.body, Date.now());
        ctx.view.invalidate();
        req.log.info({ broker: row.id, url: row.url, peer: row.peer }, 'broker registered');
        return { status: 'success' as const, broker: ctx.view.brokerInfo(row), heartbeatIntervalMs: ctx.o.heartbeatIntervalMs };
      },
    );
    app.post(
      managerRoutes.brokerHeartbeat(),
      { config, schema: { tags: ['brokers'], body: BrokerHeartbeatRequest, response: { 200: BrokerHeartbeatResponse, '4xx': FailureSchema } } },
      async (req) => {
        await ctx.controller.brokerHeartbeat(req.body);
        return { status: 'success' as const, heartbeatIntervalMs: ctx.o.heartbeatIntervalMs };
      },
    );
    return Promise.resolve();
  };
}
