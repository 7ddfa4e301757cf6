import {
  ClientHeartbeatRequest,
  ClientHeartbeatResponse,
  ConsumerRegisterRequest,
  ConsumerRegisterResponse,
  CreateTopicRequest,
  FailureSchema,
  MetadataQuery,
  MetadataResponse,
  MyQueueError,
  OkResponse,
  ProducerRegisterRequest,
  ProducerRegisterResponse,
  TopicParams,
  TopicResponse,
  managerRoutes,
} from '@myqueue/protocol';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ManagerContext } from '../context.js';
import { routePattern } from './route-pattern.js';
import { registerClient, requireTopic } from '../registration.js';
import { managerInfos } from './health-routes.js';

const fail = { '4xx': FailureSchema, '5xx': FailureSchema };

/** The client library's routes: metadata, topics, registration, client heartbeats. */
export function clientRoutes(ctx: ManagerContext): FastifyPluginAsyncTypebox {
  return (app) => {
    const write = { write: true };

    app.get(managerRoutes.metadata(), { schema: { tags: ['clients'], querystring: MetadataQuery, response: { 200: MetadataResponse, ...fail } } }, async (req) => {
      const names = req.query.topics?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      const topics = [];
      if (names) {
        for (const n of names) topics.push(await ctx.view.topicMetadata(await requireTopic(ctx, n)));
      } else {
        for (const n of await ctx.store.listTopicNames()) {
          const t = await ctx.view.topic(n);
          if (t) topics.push(await ctx.view.topicMetadata(t));
        }
      }
      const now = Date.now();
      const brokers = (await ctx.view.brokers()).map((b) => ctx.view.brokerInfo(b, now)).filter((b) => b.state !== 'dead');
      return { status: 'success' as const, node: ctx.o.nodeId, primary: ctx.primary(), managers: await managerInfos(ctx), brokers, topics };
    });

    app.post(managerRoutes.topics(), { config: write, schema: { tags: ['clients'], body: CreateTopicRequest, response: { 200: TopicResponse, ...fail } } }, async (req) => {
      const t = await ctx.controller.createTopic(req.body.name, req.body.partitions ?? ctx.o.defaultPartitions, req.body.replicationFactor ?? ctx.o.defaultReplicationFactor);
      return { status: 'success' as const, topic: await ctx.view.topicMetadata(t) };
    });

    app.get(routePattern(managerRoutes.topic(':topic')), { schema: { tags: ['clients'], params: TopicParams, response: { 200: TopicResponse, ...fail } } }, async (req) => {
      return { status: 'success' as const, topic: await ctx.view.topicMetadata(await requireTopic(ctx, req.params.topic)) };
    });

    app.delete(
      routePattern(managerRoutes.topic(':topic')),
      { config: { auth: 'cluster', write: true }, schema: { tags: ['admin'], params: TopicParams, response: { 200: OkResponse, ...fail } } },
      async (req) => {
        await ctx.controller.deleteTopic(req.params.topic);
        return { status: 'success' as const };
      },
    );

    app.post(
      managerRoutes.producerRegister(),
      { config: write, schema: { tags: ['clients'], body: ProducerRegisterRequest, response: { 200: ProducerRegisterResponse, ...fail } } },
      async (req) => {
        const b = req.body;
        const { id, topic } = await registerClient(ctx, {
          kind: 'producer',
          topic: b.topic,
          partition: b.partition,
          existingId: b.producerId,
          createWithPartitions: b.createTopic === false ? undefined : ctx.o.defaultPartitions,
          replicationFactor: ctx.o.defaultReplicationFactor,
        });
        return { status: 'success' as const, producerId: id, topic: await ctx.view.topicMetadata(topic) };
      },
    );

    app.post(
      managerRoutes.consumerRegister(),
      { config: write, schema: { tags: ['clients'], body: ConsumerRegisterRequest, response: { 200: ConsumerRegisterResponse, ...fail } } },
      async (req) => {
        const b = req.body;
        const { id, topic } = await registerClient(ctx, { kind: 'consumer', topic: b.topic, partition: b.partition, existingId: b.consumerId, replicationFactor: ctx.o.defaultReplicationFactor });
        return { status: 'success' as const, consumerId: id, topic: await ctx.view.topicMetadata(topic) };
      },
    );

    app.post(
      managerRoutes.clientHeartbeat(),
      { config: write, schema: { tags: ['clients'], body: ClientHeartbeatRequest, response: { 200: ClientHeartbeatResponse, ...fail } } },
      async (req) => {
        if (!(await ctx.store.touchClient(req.body.kind, req.body.id, Date.now()))) {
          throw new MyQueueError(req.body.kind === 'producer' ? 'MQ_ERR_UNKNOWN_PRODUCER' : 'MQ_ERR_UNKNOWN_CONSUMER', `${req.body.kind} ${req.body.id} does not exist`);
        }
        return { status: 'success' as const, heartbeatIntervalMs: ctx.o.heartbeatIntervalMs };
      },
    );
    return Promise.resolve();
  };
}
