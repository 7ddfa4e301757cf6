/**
 * Keyless records and the sticky partition, end to end through the producer: a scripted HTTP server plays
 * the manager and the leader of a three-partition topic and records each produce request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { metadataAnswer, readJson, replyJson, topicAnswer } from './scripted-server.js';
import { MyQueue } from '../src/myqueue.js';
import type { Producer } from '../src/producer.js';
import { createRoundRobinPartitioner, partitionForKey } from '../src/partitioner.js';

const PARTITIONS = 3;

/** Produce requests by partition, in arrival order: the values of each. */
let requests: { partition: number; values: string[] }[];
let server: Server;
let mq: MyQueue;

afterEach(async () => {
  await mq?.close().catch(() => undefined);
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

async function setup(options: Parameters<MyQueue['producer']>[0]): Promise<Producer> {
  requests = [];
  const offsets = Array.from({ length: PARTITIONS }, () => 0);
  let url = '';
  server = createServer((req, res) => {
    void readJson(req).then((b) => {
      if (req.url?.startsWith('/v1/producers/register'))
        return replyJson(res, 200, { status: 'success', producerId: 1, topic: topicAnswer(url, PARTITIONS) });
      if (req.url?.startsWith('/v1/metadata'))
        return replyJson(res, 200, metadataAnswer(url, [topicAnswer(url, PARTITIONS)]));
      const m = /^\/v1\/partitions\/t\/(\d+)\/produce$/.exec(req.url ?? '');
      if (!m) return replyJson(res, 404, { status: 'failure', code: 'MQ_ERR_NOT_FOUND', message: req.url });
      const partition = Number(m[1]);
      const values = (b.records as { value: string }[]).map((r) => r.value);
      requests.push({ partition, values });
      const baseOffset = offsets[partition];
      offsets[partition] += values.length;
      replyJson(res, 200, { status: 'success', baseOffset, count: values.length, duplicate: false });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mq = new MyQueue({ manager: url, heartbeats: false, requestTimeoutMs: 2000 });
  const producer = mq.producer({ deliveryTimeoutMs: 5000, ...options });
  await producer.connect(['t']);
  return producer;
}

const sendAll = (p: Producer, values: string[], key?: string) =>
  Promise.all(values.map((value) => p.send({ topic: 't', messages: [{ value, key }] })));
const values = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('sticky partitions for keyless records', () => {
  it('puts the keyless records of one linger into one request, and the next linger on the next partition', async () => {
    const producer = await setup({ lingerMs: 20 });
    const first = await sendAll(producer, values('a', 12));
    const second = await sendAll(producer, values('b', 12));
    expect(requests).toHaveLength(2);
    expect(requests[0].values).toEqual(values('a', 12));
    expect(requests[1].values).toEqual(values('b', 12));
    const p = requests[0].partition;
    expect(requests[1].partition).toBe((p + 1) % PARTITIONS);
    expect(first.every(([r]) => r.partition === p)).toBe(true);
    expect(second.every(([r]) => r.partition === (p + 1) % PARTITIONS)).toBe(true);
  });

  it('moves on once a partition holds a full batch, also inside one send()', async () => {
    const producer = await setup({ lingerMs: 200, batchSize: 4 });
    const results = await producer.send({ topic: 't', messages: values('m', 10).map((value) => ({ value })) });
    const partitions = results.map((r) => r.partition);
    const p = partitions[0];
    const next = (n: number) => (p + n) % PARTITIONS;
    expect(partitions).toEqual([p, p, p, p, next(1), next(1), next(1), next(1), next(2), next(2)]);
    expect(requests.map((r) => r.values.length).sort()).toEqual([2, 4, 4]);
  });

  it('leaves keyed records on their hash partition and rotates per record with the round-robin partitioner', async () => {
    const producer = await setup({ lingerMs: 5 });
    const keyed = await sendAll(producer, values('k', 6), 'user-7');
    expect(keyed.every(([r]) => r.partition === partitionForKey('user-7', PARTITIONS))).toBe(true);
    await mq.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));

    const rotating = await setup({ lingerMs: 5, partitioner: createRoundRobinPartitioner() });
    const results = await sendAll(rotating, values('r', 6));
    expect(results.map(([r]) => r.partition)).toEqual([0, 1, 2, 0, 1, 2]);
  });
});
