import {
  FailureSchema,
  LegacyConsumerQuery,
  LegacyConsumerRegisterResponse,
  LegacyCreateTopicRequest,
  LegacyMessageResponse,
  LegacyProduceRequest,
  LegacyProducerRegisterResponse,
  LegacyRegisterRequest,
  LegacySizeResponse,
  LegacySuccessResponse,
  LegacyTopicsResponse,
  MyQueueError,
  loggingQueueRoutes as paths,
} from '@myqueue/protocol';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { ManagerContext } from '../context.js';
import { legacyInput, readGetBody, required, topicOf } from '../legacy-params.js';
import { partitionsFor, registerClient, requireTopic } from '../registration.js';

const fail = { '4xx': FailureSchema, '5xx': FailureSchema };
const tags = ['logging-queue'];

/**
 * The logging-queue API, exactly as old scripts call it (docs/api.md). Parameters may come in the query
 * string and/or a JSON body on every route; `topic_name` stands for `topic`.
 */
export function loggingQueueRoutes(ctx: ManagerContext): FastifyPluginAsyncTypebox {
  return (app) => {
    const write = { write: true };
    // GET routes take their parameters from a JSON body too.
    const getBody = { preValidation: async (req: FastifyRequest) => void (req.body = await readGetBody(req.raw, ctx.o.bodyLimitBytes)) };

    app.post(paths.topics, { config: write, schema: { tags, querystring: LegacyCreateTopicRequest, response: { 200: LegacyMessageResponse, ...fail } } }, async (req) => {
      const p = legacyInput(LegacyCreateTopicRequest, req.query, req.body);
      const name = topicOf(p);
      await ctx.controller.createTopic(name, p.partitions ?? 1, p.replication_factor ?? ctx.o.defaultReplicationFactor);
      return { status: 'success' as const, message: `Topic '${name}' created successfully` };
    });

    app.get(paths.topics, { schema: { tags, response: { 200: LegacyTopicsResponse, ...fail } } }, async () => ({ status: 'success' as const, topics: await ctx.store.listTopicNames() }));

    app.post(
      paths.producerRegister,
      { config: write, schema: { tags, querystring: LegacyRegisterRequest, response: { 200: LegacyProducerRegisterResponse, ...fail } } },
      async (req) => {
        const p = legacyInput(LegacyRegisterRequest, req.query, req.body);
        const { id } = await registerClient(ctx, { kind: 'producer', topic: topicOf(p), partition: p.partition, createWithPartitions: 1, replicationFactor: ctx.o.defaultReplicationFactor });
        return { status: 'success' as const, producer_id: id };
      },
    );

    app.post(
      paths.consumerRegister,
      { config: write, schema: { tags, querystring: LegacyRegisterRequest, response: { 200: LegacyConsumerRegisterResponse, ...fail } } },
      async (req) => {
        const p = legacyInput(LegacyRegisterRequest, req.query, req.body);
        const { id } = await registerClient(ctx, { kind: 'consumer', topic: topicOf(p), partition: p.partition, replicationFactor: ctx.o.defaultReplicationFactor });
        return { status: 'success' as const, consumer_id: id };
      },
    );

    app.post(paths.produce, { schema: { tags, querystring: LegacyProduceRequest, response: { 200: LegacySuccessResponse, ...fail } } }, async (req) => {
      const p = legacyInput(LegacyProduceRequest, req.query, req.body);
      const topic = await requireTopic(ctx, topicOf(p));
      const producerId = required(p.producer_id, 'producer_id');
      const message = required(p.message, 'message');
      const allowed = await partitionsFor(ctx, 'producer', producerId, topic, p.partition);
      const target = allowed.length === 1 ? allowed[0] : allowed[ctx.rotations.produce.next(topic.name, allowed.length)];
      const end = ctx.metrics.produceLatency.startTimer();
      await ctx.data.produce(target, message);
      end();
      return { status: 'success' as const };
    });

    app.get(paths.consume, { ...getBody, schema: { tags, querystring: LegacyConsumerQuery, response: { 200: LegacyMessageResponse, ...fail } } }, async (req) => {
      const p = legacyInput(LegacyConsumerQuery, req.query, req.body);
      const topic = await requireTopic(ctx, topicOf(p));
      const consumerId = required(p.consumer_id, 'consumer_id');
      const allowed = await partitionsFor(ctx, 'consumer', consumerId, topic, p.partition);
      const key = `${consumerId}\u0000${topic.name}`;
      for (const i of ctx.rotations.consume.order(key, allowed.length)) {
        const message = await ctx.data.consumeNext(allowed[i], consumerId);
        if (message !== null) {
          ctx.rotations.consume.servedBy(key, i, allowed.length);
          return { status: 'success' as const, message };
        }
      }
      const where = allowed.length === 1 && topic.partitions.length > 1 ? `partition ${allowed[0].partition} of topic '${topic.name}'` : `topic '${topic.name}'`;
      throw new MyQueueError('MQ_ERR_NO_MESSAGE', `No new messages in ${where} for consumer ${consumerId}`);
    });

    app.get(paths.size, { ...getBody, schema: { tags, querystring: LegacyConsumerQuery, response: { 200: LegacySizeResponse, ...fail } } }, async (req) => {
      const p = legacyInput(LegacyConsumerQuery, req.query, req.body);
      const topic = await requireTopic(ctx, topicOf(p));
      const consumerId = required(p.consumer_id, 'consumer_id');
      const allowed = await partitionsFor(ctx, 'consumer', consumerId, topic, p.partition);
      const sizes = await Promise.all(allowed.map((part) => ctx.data.size(part, consumerId)));
      const size = sizes.reduce((a, b) => a + b, 0);
      ctx.metrics.consumerLag.set({ topic: topic.name, consumer: String(consumerId) }, size);
      return { status: 'success' as const, size };
    });
    return Promise.resolve();
  };
}
