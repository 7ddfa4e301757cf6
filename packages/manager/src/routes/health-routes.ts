import { ClusterStatus, ManagerHealth, managerRoutes, type ClientInfo, type ManagerInfo, type PartitionHealth } from '@myqueue/protocol';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ManagerContext } from '../context.js';
import { partitionState, stateOf } from '../health.js';

export async function managerInfos(ctx: ManagerContext): Promise<ManagerInfo[]> {
  const now = Date.now();
  const primary = ctx.primary();
  return (await ctx.store.listManagers()).map((m) => ({
    id: m.id,
    url: m.url,
    role: primary?.id === m.id ? ('primary' as const) : ('replica' as const),
    state: stateOf(m.last_seen_ms, now, ctx.o),
    lastSeenAgoMs: Math.max(0, now - m.last_seen_ms),
  }));
}

/** Liveness (/v1/health) and the whole cluster's health (/v1/status). */
export function healthRoutes(ctx: ManagerContext): FastifyPluginAsyncTypebox {
  return (app) => {
    app.get(managerRoutes.health(), { config: { auth: 'open' }, schema: { tags: ['health'], response: { 200: ManagerHealth } } }, () => ({
      status: 'success' as const,
      node: ctx.o.nodeId,
      role: ctx.election.isPrimary ? ('primary' as const) : ('replica' as const),
      primary: ctx.primary(),
      database: ctx.database,
      uptimeMs: Date.now() - ctx.startedAt,
    }));

    app.get(managerRoutes.status(), { schema: { tags: ['health'], response: { 200: ClusterStatus } } }, async () => {
      ctx.view.invalidate();
      const now = Date.now();
      const brokers = (await ctx.view.brokers()).map((b) => ctx.view.brokerInfo(b, now));
      const live = new Set(brokers.filter((b) => b.state !== 'dead').map((b) => b.id));
      const clients: ClientInfo[] = [];
      for (const kind of ['producer', 'consumer'] as const) {
        for (const c of await ctx.store.listClients(kind)) {
          clients.push({ kind, id: c.id, state: stateOf(c.last_seen_ms, now, ctx.o), lastSeenAgoMs: Math.max(0, now - c.last_seen_ms), topics: c.topics });
        }
      }
      const partitions: PartitionHealth[] = [];
      for (const p of await ctx.store.allPartitions()) {
        const leader = await ctx.view.leaderOf(p);
        partitions.push({
          topic: p.topic,
          partition: p.partition,
          leader: leader && live.has(leader) ? leader : null,
          replicas: p.replicas,
          learners: p.learners,
          liveReplicas: p.replicas.filter((r) => live.has(r)),
          state: partitionState(p.replicas, live),
        });
      }
      return {
        status: 'success' as const,
        node: ctx.o.nodeId,
        role: ctx.election.isPrimary ? ('primary' as const) : ('replica' as const),
        primary: ctx.primary(),
        timeouts: { suspectAfterMs: ctx.o.suspectAfterMs, deadAfterMs: ctx.o.deadAfterMs, reassignAfterMs: ctx.o.reassignAfterMs },
        managers: await managerInfos(ctx),
        brokers,
        clients,
        partitions,
      };
    });
    return Promise.resolve();
  };
}
