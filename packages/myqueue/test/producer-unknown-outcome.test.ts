/**
 * Found by the fault suite (docs/reliability.md): a batch whose first attempt got no answer (stored by a
 * leader that then died) and whose last attempt got a definite-looking failure (503 no leader, connection
 * refused) was reported as certainly failed, and the producer reused its sequence number for the next
 * batch, which the partition then answered as a duplicate of the first: acknowledged, never stored.
 *
 * A scripted HTTP server plays the manager and a partition leader with the broker's dedup rule (same
 * producer, sequence and count -> the original offsets), so the interleaving is exact.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { metadataAnswer, readJson, replyJson, topicAnswer } from './scripted-server.js';
import { certainlyNotApplied, toMyQueueError } from '../src/errors.js';
import { MyQueue } from '../src/myqueue.js';

let server: Server | undefined;
let mq: MyQueue | undefined;
afterEach(async () => {
  await mq?.close().catch(() => undefined);
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

it('a batch that may have been stored is reported unknown, and its sequence is never reused', async () => {
  const log: string[] = [];
  const batches = new Map<string, { baseOffset: number; count: number }>();
  let producerIds = 0;
  let phase: 'store-and-hang' | 'no-leader' | 'normal' = 'store-and-hang';
  let url = '';
  const topic = () => topicAnswer(url, 1, log.length);
  server = createServer((req, res) => {
    void (async () => {
      const b = await readJson(req);
      if (req.url?.startsWith('/v1/producers/register'))
        return replyJson(res, 200, { status: 'success', producerId: ++producerIds, topic: topic() });
      if (req.url?.startsWith('/v1/metadata')) return replyJson(res, 200, metadataAnswer(url, [topic()]));
      if (req.url === '/v1/partitions/t/0/produce') {
        const records = b.records as { value: string }[];
        if (phase === 'no-leader')
          return replyJson(res, 503, {
            status: 'failure',
            code: 'MQ_ERR_NO_LEADER',
            message: 'no leader',
            leader: null,
            leaderUrl: null,
          });
        const key = `${String(b.producerId)}/${String(b.sequence)}`;
        const seen = batches.get(key);
        if (seen && seen.count === records.length)
          return replyJson(res, 200, {
            status: 'success',
            baseOffset: seen.baseOffset,
            count: seen.count,
            duplicate: true,
          });
        batches.set(key, { baseOffset: log.length, count: records.length });
        const baseOffset = log.length;
        log.push(...records.map((r) => r.value));
        if (phase === 'store-and-hang') {
          phase = 'no-leader'; // stored, then the leader dies before answering
          return;
        }
        return replyJson(res, 200, { status: 'success', baseOffset, count: records.length, duplicate: false });
      }
      replyJson(res, 404, { status: 'failure', code: 'MQ_ERR_NOT_FOUND', message: req.url });
    })();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mq = new MyQueue({ manager: url, heartbeats: false, requestTimeoutMs: 100, backoff: { initialMs: 20, maxMs: 50 } });
  const producer = mq.producer({ lingerMs: 0, deliveryTimeoutMs: 3000 });

  const first = await producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] }).then(
    () => undefined,
    (e: unknown) => toMyQueueError(e),
  );
  expect(first, 'the first send cannot succeed: its only answered attempts say no leader').toBeDefined();
  expect(log).toEqual(['a']); // ... yet it is stored
  expect(certainlyNotApplied(first!), `reported as certainly failed: ${first!.message}`).toBe(false);

  phase = 'normal';
  const [meta] = await producer.send({ topic: 't', messages: [{ value: 'b', partition: 0 }] });
  expect(log[meta.offset], 'the acknowledged record is stored at its offset').toBe('b');
  expect(log).toEqual(['a', 'b']);
});
