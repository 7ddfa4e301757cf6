import { FailureSchema, OkResponse, PartitionPathParams, ReassignRequest, RebalanceLeadersResponse, managerRoutes } from '@myqueue/protocol';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ManagerContext } from '../context.js';
import { routePattern } from './route-pattern.js';
import { requirePartition, requireTopic } from '../registration.js';

/** Placement and membership (cluster token): move a partition's replicas, hand leaders back to preferred replicas. */
export function adminRoutes(ctx: ManagerContext): FastifyPluginAsyncTypebox {
  return (app) => {
    const config = { auth: 'cluster' as const, write: true };
    const fail = { '4xx': FailureSchema, '5xx': FailureSchema };
    app.post(
      routePattern(managerRoutes.reassign(':topic', ':partition' as unknown as number)),
      { config, schema: { tags: ['admin'], params: PartitionPathParams, body: ReassignRequest, response: { 200: OkResponse, ...fail } } },
      async (req) => {
        const p = requirePartition(await requireTopic(ctx, req.params.topic), req.params.partition);
        await ctx.controller.changeMembers(p, req.body.replicas);
        return { status: 'success' as const };
      },
    );
    app.post(managerRoutes.rebalanceLeaders(), { config, schema: { tags: ['admin'], response: { 200: RebalanceLeadersResponse, ...fail } } }, async () => ({
      status: 'success' as const,
      transfers: await ctx.controller.rebalanceLeaders(),
    }));
    return Promise.resolve();
  };
}
