/**
 * docs/reliability.md F3: a send ends by its delivery deadline even when the manager hangs, with the outcome
 * semantics of the producer (nothing sent: certainly not stored; an attempt that may have stored the batch:
 * outcome unknown, and the producer takes a new id); and a partition missing from one metadata answer (F2
 * saw topics with 0 partitions) is retried, not fatal. A scripted HTTP server plays manager and leader.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { metadataAnswer, readJson, replyJson, topicAnswer } from './scripted-server.js';
import { certainlyNotApplied, toMyQueueError } from '../src/errors.js';
import { HttpTransport } from '../src/http-transport.js';
import { ManagerClient } from '../src/manager-client.js';
import { MetadataCache } from '../src/metadata-cache.js';
import { MyQueue } from '../src/myqueue.js';
import { withDefaults } from '../src/options.js';
import { PartitionRouter } from '../src/partition-router.js';

let server: Server | undefined;
let mq: MyQueue | undefined;
let http: HttpTransport | undefined;
afterEach(async () => {
  await mq?.close().catch(() => undefined);
  await http?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = mq = http = undefined;
});

type Handler = (path: string, body: Record<string, unknown>, res: ServerResponse) => void;

/** Starts the scripted server; resolves to its URL. */
async function serve(handler: Handler): Promise<string> {
  server = createServer((req, res) => void readJson(req).then((b) => handler(req.url ?? '', b, res)));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function metadata(url: string, partitions: number) {
  return metadataAnswer(url, [topicAnswer(url, partitions)]);
}

// Budgets far beyond the delivery timeout: before the fix, the manager's own 30-60 s retry budget applied.
const SLOW = { heartbeats: false, requestTimeoutMs: 60_000, retryTimeoutMs: 60_000 } as const;

it('a send whose registration hangs rejects with MQ_ERR_TIMEOUT at its deadline, certainly not stored', async () => {
  const url = await serve(() => undefined); // the manager never answers
  mq = new MyQueue({ manager: url, ...SLOW });
  const producer = mq.producer({ deliveryTimeoutMs: 300 });
  const started = Date.now();
  const error = await producer.send({ topic: 't', messages: [{ value: 'a' }] }).then(
    () => undefined,
    (e: unknown) => toMyQueueError(e),
  );
  expect(error?.code).toBe('MQ_ERR_TIMEOUT');
  expect(certainlyNotApplied(error!), 'nothing was sent to a broker').toBe(true);
  // Bounded by the delivery timeout, not the 60 s budgets (a wide margin for a loaded machine).
  expect(Date.now() - started).toBeLessThan(30_000);
}, 40_000);

it('a batch that may be stored, then stuck on a hanging metadata refresh, rejects at its deadline as unknown and fences', async () => {
  const registrations: unknown[] = [];
  let produced = 0;
  let url = '';
  url = await serve((path, b, res) => {
    if (path.startsWith('/v1/producers/register')) {
      registrations.push(b.producerId);
      return replyJson(res, 200, { status: 'success', producerId: registrations.length, topic: topicAnswer(url, 1) });
    }
    if (path.startsWith('/v1/partitions/t/0/produce')) {
      produced++;
      // Lost leadership with the batch maybe in its log: the client must refresh metadata, which hangs.
      return replyJson(res, 503, { status: 'failure', code: 'MQ_ERR_NO_LEADER', message: 'no leader' });
    }
    // /v1/metadata: the manager hangs.
  });
  mq = new MyQueue({ manager: url, ...SLOW });
  const producer = mq.producer({ lingerMs: 0, deliveryTimeoutMs: 1000 });
  const started = Date.now();
  const error = await producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] }).then(
    () => undefined,
    (e: unknown) => toMyQueueError(e),
  );
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(produced).toBeGreaterThan(0);
  expect(error?.code).toBe('MQ_ERR_TIMEOUT');
  expect(certainlyNotApplied(error!), `must stay unknown: ${error?.message}`).toBe(false);
  // Fenced: the next send registers without the old id, so the sequence is never reused.
  expect(producer.producerId).toBeUndefined();
  expect(registrations).toEqual([undefined]);
}, 40_000);

it('a partition missing from a metadata answer (0 partitions) is retried until the manager lists it', async () => {
  let url = '';
  let answers = 0;
  url = await serve((path, _b, res) => {
    if (path.startsWith('/v1/metadata')) return replyJson(res, 200, metadata(url, ++answers <= 2 ? 0 : 1));
    replyJson(res, 404, { status: 'failure', code: 'MQ_ERR_NOT_FOUND', message: path });
  });
  const options = withDefaults({ manager: url, heartbeats: false, backoff: { initialMs: 10, maxMs: 20 } });
  http = new HttpTransport({ connectionsPerOrigin: 2 });
  const router = new PartitionRouter(new MetadataCache(new ManagerClient(http, options), 60_000), options);
  // A consumer's fetch loop calls with no deadline: before the fix the first answer ended it.
  const origin = await router.call('t', 0, (o) => Promise.resolve(o), { deadline: Number.POSITIVE_INFINITY });
  expect(origin).toBe(url);
  expect(answers).toBe(3);
});

it('a metadata answer with fewer partitions than the same topic had is not taken in', () => {
  const url = 'http://127.0.0.1:1';
  const options = withDefaults({ manager: url, heartbeats: false });
  http = new HttpTransport({ connectionsPerOrigin: 1 });
  const cache = new MetadataCache(new ManagerClient(http, options), 60_000);
  cache.seedTopic(topicAnswer(url, 2));
  cache.seedTopic(topicAnswer(url, 0));
  expect(cache.cachedTopic('t')?.partitions).toHaveLength(2);
  cache.seedTopic({ ...topicAnswer(url, 1), createdAt: 2 }); // deleted and created again: a new topic
  expect(cache.cachedTopic('t')?.partitions).toHaveLength(1);
});

it('a consumer registered with a 0-partition answer waits for the partitions instead of reading nothing', async () => {
  let url = '';
  let fetched = false;
  url = await serve((path, _b, res) => {
    if (path.startsWith('/v1/consumers/register'))
      return replyJson(res, 200, { status: 'success', consumerId: 1, topic: topicAnswer(url, 0) });
    if (path.startsWith('/v1/metadata')) return replyJson(res, 200, metadata(url, 1));
    if (path.startsWith('/v1/partitions/t/0/size'))
      return replyJson(res, 200, { status: 'success', size: 1, position: 0, highWatermark: 1 });
    if (path.startsWith('/v1/partitions/t/0/fetch')) {
      const records = fetched ? [] : [{ offset: 0, timestamp: 0, key: null, value: 'a' }];
      fetched = true;
      const answer = { status: 'success', records, highWatermark: 1, nextOffset: 1, logStartOffset: 0 };
      // An empty answer after a while, like a long poll, so the fetch loop does not spin.
      return void setTimeout(() => replyJson(res, 200, answer), records.length > 0 ? 0 : 200);
    }
    replyJson(res, 404, { status: 'failure', code: 'MQ_ERR_NOT_FOUND', message: path });
  });
  mq = new MyQueue({ manager: url, heartbeats: false, backoff: { initialMs: 10, maxMs: 20 } });
  const consumer = mq.consumer({ topics: ['t'], autoCommit: false });
  const timer = setTimeout(() => void consumer.stop(), 20_000);
  const values: string[] = [];
  for await (const m of consumer) {
    values.push(m.value);
    break;
  }
  clearTimeout(timer);
  await consumer.stop();
  expect(values).toEqual(['a']);
}, 30_000);
