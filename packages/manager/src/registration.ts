import { MyQueueError, type ClientKind } from '@myqueue/protocol';
import type { ManagerContext } from './context.js';
import type { PartitionRow, TopicRow } from './store/metadata-store.js';

const unknownClient = (kind: ClientKind, id: number) =>
  new MyQueueError(kind === 'producer' ? 'MQ_ERR_UNKNOWN_PRODUCER' : 'MQ_ERR_UNKNOWN_CONSUMER', `${kind} ${id} does not exist`);

export function unknownTopic(name: string): MyQueueError {
  return new MyQueueError('MQ_ERR_UNKNOWN_TOPIC', `Topic '${name}' does not exist`);
}

export async function requireTopic(ctx: ManagerContext, name: string): Promise<TopicRow> {
  const t = await ctx.view.topic(name);
  if (!t) throw unknownTopic(name);
  return t;
}

export function requirePartition(t: TopicRow, partition: number): PartitionRow {
  const p = t.partitions[partition];
  if (!p) throw new MyQueueError('MQ_ERR_UNKNOWN_PARTITION', `Topic '${t.name}' has no partition ${partition} (it has ${t.partitions.length})`);
  return p;
}

export interface RegisterOptions {
  kind: ClientKind;
  topic: string;
  partition?: number | undefined;
  /** Register this existing client for the topic instead of creating a new one. */
  existingId?: number | undefined;
  /** Create a missing topic with this many partitions (producers); undefined: a missing topic is a failure. */
  createWithPartitions?: number | undefined;
  replicationFactor: number;
}

/** Registers a producer or consumer for a topic (primary only); returns its id and the topic. */
export async function registerClient(ctx: ManagerContext, r: RegisterOptions): Promise<{ id: number; topic: TopicRow }> {
  let topic = await ctx.view.topic(r.topic);
  if (!topic) {
    if (r.createWithPartitions === undefined) throw unknownTopic(r.topic);
    if (r.partition !== undefined && r.partition >= r.createWithPartitions) {
      throw new MyQueueError('MQ_ERR_UNKNOWN_PARTITION', `Topic '${r.topic}' does not exist and would be created with ${r.createWithPartitions} partition(s); no partition ${r.partition}`);
    }
    try {
      topic = await ctx.controller.createTopic(r.topic, r.createWithPartitions, r.replicationFactor);
    } catch (err) {
      // Another registration created it first: use theirs.
      if (!(err instanceof MyQueueError && err.code === 'MQ_ERR_TOPIC_EXISTS')) throw err;
      topic = await requireTopic(ctx, r.topic);
    }
  }
  if (r.partition !== undefined) requirePartition(topic, r.partition);
  const reg = { topic: topic.name, partition: r.partition ?? null };
  const now = Date.now();
  if (r.existingId !== undefined) {
    if (!(await ctx.store.addRegistration(r.kind, r.existingId, reg, now))) throw unknownClient(r.kind, r.existingId);
    return { id: r.existingId, topic };
  }
  return { id: await ctx.store.createClient(r.kind, reg, now), topic };
}

/**
 * The partitions a registered client may use in this request: the one it names, else the one its
 * registration is pinned to, else all of them. Unknown client, unregistered client or a partition outside
 * its registration are failures.
 */
export async function partitionsFor(ctx: ManagerContext, kind: ClientKind, id: number, topic: TopicRow, partition: number | undefined): Promise<PartitionRow[]> {
  const reg = await ctx.store.getRegistration(kind, id, topic.name);
  if (reg === undefined) throw unknownClient(kind, id);
  if (reg === null) throw new MyQueueError('MQ_ERR_NOT_REGISTERED', `${kind} ${id} is not registered for topic '${topic.name}'`);
  if (partition !== undefined) {
    if (reg.partition !== null && reg.partition !== partition) {
      throw new MyQueueError('MQ_ERR_NOT_REGISTERED', `${kind} ${id} is registered for partition ${reg.partition} of '${topic.name}', not ${partition}`);
    }
    return [requirePartition(topic, partition)];
  }
  if (reg.partition !== null) return [requirePartition(topic, reg.partition)];
  return topic.partitions;
}
