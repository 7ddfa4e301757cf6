/**
 * The client against a real local cluster (manager + 3 brokers as processes): classic and modern
 * interfaces, batching, heartbeats, and retries across a leader killed with SIGKILL.
 */
import { startLocalCluster, testDatabaseOptions, type LocalCluster } from '@myqueue/local-cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MyConsumer, MyProducer, createTopic, listTopics } from '../src/classic.js';
import { NotRegisteredError, TopicExistsError, UnknownPartitionError, UnknownTopicError } from '../src/errors.js';
import { MyQueue } from '../src/myqueue.js';
import { partitionForKey } from '../src/partitioner.js';
import type { ConsumedMessage, Consumer } from '../src/consumer.js';


let cluster: LocalCluster;
let mq: MyQueue;

beforeAll(async () => {
  cluster = await startLocalCluster({ brokers: 3, logLevel: 'warn', ...(await testDatabaseOptions()) });
  mq = new MyQueue({ manager: cluster.managerUrl });
});

afterAll(async () => {
  await mq?.close();
  await cluster?.stop();
});

/** Reads until `count` messages arrived (or fails after `timeoutMs`), then stops the consumer. */
async function collect(consumer: Consumer, count: number, timeoutMs = 60_000): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  const timer = setTimeout(() => void consumer.stop(), timeoutMs);
  try {
    for await (const m of consumer) {
      out.push(m);
      if (out.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    await consumer.stop();
  }
  return out;
}

/** Every partition's offsets are 0..n-1 with no gap and no repeat. */
function expectContiguous(messages: readonly ConsumedMessage[]): void {
  const byPartition = new Map<number, number[]>();
  for (const m of messages) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m.offset]);
  for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
}

describe('classic interface', () => {
  it('creates and lists topics; MyProducer sends and MyConsumer receives every message once, in order', async () => {
    await createTopic({ manager: cluster.managerUrl, topic: 'classic', partitions: 2, replicationFactor: 3 });
    await expect(createTopic({ manager: cluster.managerUrl, topic: 'classic' })).rejects.toBeInstanceOf(
      TopicExistsError,
    );
    expect(await listTopics({ manager: cluster.managerUrl })).toContain('classic');

    const producer = new MyProducer({ topics: ['classic'], manager: cluster.managerUrl });
    expect(producer.canSend('classic')).toBe(false);
    await producer.ready();
    expect(producer.canSend('classic')).toBe(true);
    expect(producer.canSend('other')).toBe(false);
    await expect(producer.send('other', 'x')).rejects.toBeInstanceOf(NotRegisteredError);
    const sent: { partition: number; offset: number }[] = [];
    for (let i = 0; i < 40; i++) sent.push(await producer.send('classic', `line ${i}`));
    await producer.stop();
    expect(producer.canSend()).toBe(false);

    const consumer = new MyConsumer({ topics: ['classic'], manager: cluster.managerUrl });
    expect(await consumer.size('classic')).toBe(40);
    const got: { partition: number; offset: number; message: string }[] = [];
    for await (const m of consumer.getNext()) {
      got.push(m);
      if (got.length === 40) break;
    }
    expect(await consumer.size('classic')).toBe(0);
    await consumer.stop();
    expect(new Set(got.map((m) => m.message)).size).toBe(40);
    for (const p of [0, 1]) {
      const inP = got.filter((m) => m.partition === p);
      expect(inP.map((m) => m.offset)).toEqual(inP.map((_, i) => i));
      // Sends were sequential, so each partition holds its lines in send order.
      const lines = inP.map((m) => Number(m.message.split(' ')[1]));
      expect(lines).toEqual([...lines].sort((a, b) => a - b));
    }
    expect(got.map((m) => `${m.partition}/${m.offset}`).sort()).toEqual(
      sent.map((m) => `${m.partition}/${m.offset}`).sort(),
    );
  });
});

describe('modern interface', () => {
  it('batches concurrent sends, routes keys by murmur2, resolves offsets, and a consumer resumes from its commit', async () => {
    await mq.createTopic({ name: 'modern', partitions: 3, replicationFactor: 3 });
    const producer = mq.producer({ lingerMs: 20 });
    const sends = Array.from({ length: 300 }, (_, i) =>
      producer.send({
        topic: 'modern',
        messages: [{ key: `user-${i % 7}`, value: `v${i}`, headers: { seq: String(i) } }],
      }),
    );
    const results = (await Promise.all(sends)).flat();
    for (const [i, r] of results.entries()) expect(r.partition).toBe(partitionForKey(`user-${i % 7}`, 3));
    const stats = producer.stats;
    expect(stats.records).toBe(300);
    // 300 concurrent sends to 3 partitions travel in a handful of requests, not 300.
    expect(stats.requests).toBeLessThan(60);

    const multi = await producer.send({
      topic: 'modern',
      messages: [
        { value: 'a', partition: 1 },
        { value: 'b', partition: 1 },
      ],
    });
    expect(multi[1].offset).toBe(multi[0].offset + 1);
    await expect(producer.send({ topic: 'modern', messages: [{ value: 'x', partition: 9 }] })).rejects.toBeInstanceOf(
      UnknownPartitionError,
    );
    await expect(producer.send({ topic: 'no-such-topic', messages: [{ value: 'x' }] })).rejects.toBeInstanceOf(
      UnknownTopicError,
    );
    await producer.close();

    const first = mq.consumer({ topics: ['modern'] });
    const part1 = await collect(first, 150);
    expect(part1).toHaveLength(150);
    const id = first.consumerId!;
    const rest = await collect(mq.consumer({ topics: ['modern'], consumerId: id }), 152);
    const all = [...part1, ...rest];
    expect(all).toHaveLength(302);
    expect(new Set(all.map((m) => `${m.partition}/${m.offset}`)).size).toBe(302);
    expectContiguous(all);
    const v0 = all.find((m) => m.value === 'v0')!;
    expect(v0.headers).toEqual({ seq: '0' });
    expect(v0.key).toBe('user-0');
    // Per key, values arrive in send order.
    const seqOf = (m: ConsumedMessage) => Number(m.headers.seq);
    const key0 = all.filter((m) => m.key === 'user-0').map(seqOf);
    expect(key0).toEqual([...key0].sort((a, b) => a - b));
  });

  it('supports AbortSignal on send and on the consumer', async () => {
    await mq.createTopic({ name: 'abort', partitions: 1, replicationFactor: 3 });
    const producer = mq.producer({ lingerMs: 60_000 });
    await producer.connect(['abort']);
    const ac = new AbortController();
    const pending = producer.send({ topic: 'abort', messages: [{ value: 'never' }], signal: ac.signal });
    ac.abort(new Error('changed my mind'));
    await expect(pending).rejects.toThrow('changed my mind');
    await producer.close();

    const cc = new AbortController();
    const consumer = mq.consumer({ topics: ['abort'], signal: cc.signal, maxWaitMs: 200 });
    setTimeout(() => cc.abort(), 500);
    const got: ConsumedMessage[] = [];
    for await (const m of consumer) got.push(m);
    expect(got).toEqual([]);
  });

  it('heartbeats keep registered producers and consumers alive in the manager status', async () => {
    await mq.createTopic({ name: 'hb', partitions: 1, replicationFactor: 3 });
    const producer = mq.producer();
    await producer.connect(['hb']);
    const consumer = mq.consumer({ topics: ['hb'] });
    await consumer.connect();
    // Longer than the manager's suspect timeout (3 s): only heartbeats keep the clients fresh.
    await new Promise((r) => setTimeout(r, 4000));
    const status = await mq.status();
    for (const [kind, id] of [
      ['producer', producer.producerId],
      ['consumer', consumer.consumerId],
    ] as const) {
      const me = status.clients.find((c) => c.kind === kind && c.id === id);
      expect(me, `${kind} ${id}`).toBeDefined();
      expect(me!.state).toBe('alive');
      expect(me!.lastSeenAgoMs).toBeLessThan(2500);
      expect(me!.topics.map((t) => t.topic)).toEqual(['hb']);
    }
    await consumer.stop();
    await producer.close();
  });
});

describe('leader failure', () => {
  it('loses nothing and duplicates nothing when the leader is killed with SIGKILL during a send loop', async () => {
    await mq.createTopic({ name: 'failover', partitions: 1, replicationFactor: 3 });
    const producer = mq.producer({ lingerMs: 2, batchSize: 50 });
    await producer.send({ topic: 'failover', messages: [{ value: 'warm-up' }] });
    // The manager learns leaders from broker heartbeats: wait until it reports one.
    let leader: string | null = null;
    for (let i = 0; i < 100 && !leader; i++) {
      leader = (await mq.metadata(['failover'])).topics[0].partitions[0].leader;
      if (!leader) await new Promise((r) => setTimeout(r, 200));
    }
    expect(leader).not.toBeNull();

    const total = 600;
    let next = 0;
    let killed = false;
    const loop = async () => {
      while (next < total) {
        const i = next++;
        if (i === 200 && !killed) {
          killed = true;
          await cluster.killBroker(leader!);
        }
        await producer.send({ topic: 'failover', messages: [{ value: `m${i}` }] });
      }
    };
    await Promise.all(Array.from({ length: 8 }, loop));
    expect(killed).toBe(true);
    expect(producer.stats.failedRecords).toBe(0);
    await producer.close();

    const after = await mq.metadata(['failover']);
    const got = await collect(mq.consumer({ topics: ['failover'] }), total + 1);
    const values = got.map((m) => m.value).filter((v) => v !== 'warm-up');
    expect(values).toHaveLength(total);
    expect(new Set(values).size).toBe(total);
    expectContiguous(got);
    await cluster.startBroker(leader!);
    expect(after.topics[0].partitions[0].replicas).toContain(leader);
  });
});
