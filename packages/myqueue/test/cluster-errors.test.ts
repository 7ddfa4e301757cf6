/**
 * Every failure code against a real cluster (manager + 3 brokers as processes). Codes an application meets
 * come through the public API (MyQueue, producers, consumers, the classic classes); codes the client
 * handles itself (redirects, elections, sequence and offset errors) are provoked through the client's own
 * transport, and the client's recovery from them is checked where it can be. Each must arrive as its
 * typed error class with the code, HTTP status and `retriable` flag of the table in @myqueue/protocol.
 */
import {
  ERROR_CODES,
  MyQueueError,
  brokerRoutes,
  loggingQueueRoutes,
  managerRoutes,
  type ErrorCode,
} from '@myqueue/protocol';
import { startLocalCluster, testDatabaseOptions, type LocalCluster } from '@myqueue/local-cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MyProducer } from '../src/classic.js';
import { ERROR_CLASSES, type NotLeaderError, type UnavailableError } from '../src/errors.js';
import { HttpTransport } from '../src/http-transport.js';
import { ManagerClient } from '../src/manager-client.js';
import { MyQueue } from '../src/myqueue.js';
import { withDefaults } from '../src/options.js';

// Small enough that one record can exceed it without building a huge string.
const BODY_LIMIT = 256 * 1024;

let cluster: LocalCluster;
let mq: MyQueue;
let http: HttpTransport;

beforeAll(async () => {
  cluster = await startLocalCluster({
    brokers: 3,
    logLevel: 'warn',
    ...(await testDatabaseOptions()),
    brokerEnv: { BODY_LIMIT: String(BODY_LIMIT) },
  });
  mq = new MyQueue({ manager: cluster.managerUrl });
  http = new HttpTransport({ connectionsPerOrigin: 8 });
  await mq.createTopic({ name: 'errors', partitions: 1, replicationFactor: 3 });
});

afterAll(async () => {
  await http?.close();
  await mq?.close();
  await cluster?.stop();
});

/** The URL of a broker id. */
const urlOf = (id: string) => cluster.brokers.find((b) => b.id === id)!.url;

/** A raw call to a partition route of one broker, as the producer and consumer make them. */
function brokerCall<T = unknown>(
  origin: string,
  method: 'GET' | 'POST',
  path: string,
  rest: { query?: Record<string, number>; body?: unknown; timeoutMs?: number } = {},
) {
  return http.request<T>({
    origin,
    method,
    path,
    query: rest.query,
    body: rest.body,
    timeoutMs: rest.timeoutMs ?? 10_000,
  });
}

/**
 * A raw call to the leader of errors/0: asks the manager where it is and follows redirects and elections
 * (leadership can move on a loaded machine), like the client's router, but without retrying the failure
 * under test.
 */
async function leaderCall<T = unknown>(
  method: 'GET' | 'POST',
  path: string,
  rest: { query?: Record<string, number>; body?: unknown; timeoutMs?: number } = {},
): Promise<T> {
  let url: string | null = null;
  for (let attempt = 0; ; attempt++) {
    url ??= (await mq.metadata(['errors'])).topics[0].partitions[0].leaderUrl;
    if (url === null) {
      if (attempt > 100) throw new Error('errors/0 has no leader');
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      return await brokerCall<T>(url, method, path, rest);
    } catch (e) {
      const moved = e instanceof MyQueueError && (e.code === 'MQ_ERR_NOT_LEADER' || e.code === 'MQ_ERR_NO_LEADER');
      if (!moved || attempt > 100) throw e;
      url = (e as NotLeaderError).leaderUrl;
    }
  }
}

/** A broker heartbeat (a route for brokers, with the cluster token) sent with `token`. */
async function heartbeatAs(token: string, body: unknown): Promise<unknown> {
  const transport = new HttpTransport({ connectionsPerOrigin: 1, token });
  try {
    return await transport.request({
      origin: cluster.managerUrl,
      method: 'POST',
      path: managerRoutes.brokerHeartbeat(),
      body,
      timeoutMs: 10_000,
    });
  } finally {
    await transport.close();
  }
}

/** How each code is provoked; null (with the reason) where a local cluster cannot produce it. */
const provoke: { readonly [C in ErrorCode]: (() => Promise<unknown>) | { notProvoked: string } } = {
  MQ_ERR_BAD_REQUEST: () => mq.createTopic({ name: 'not a valid name!' }),
  MQ_ERR_PAYLOAD_TOO_LARGE: async () => {
    const producer = mq.producer({ batchBytes: 4 * BODY_LIMIT });
    try {
      return await producer.send({ topic: 'errors', messages: [{ value: 'x'.repeat(2 * BODY_LIMIT) }] });
    } finally {
      await producer.close();
    }
  },
  // A broker is not a manager: it has no metadata route.
  MQ_ERR_NOT_FOUND: async () => {
    const wrong = new MyQueue({ manager: cluster.brokers[0].url });
    try {
      return await wrong.listTopics();
    } finally {
      await wrong.close();
    }
  },
  // Broker routes need the cluster token (the client's admin calls would too: see the Status in README).
  MQ_ERR_UNAUTHORIZED: () => heartbeatAs('not-the-cluster-token', { id: 'b1', partitions: [] }),
  MQ_ERR_TOPIC_EXISTS: () => mq.createTopic({ name: 'errors' }),
  MQ_ERR_UNKNOWN_TOPIC: async () => {
    const producer = mq.producer();
    try {
      return await producer.send({ topic: 'no-such-topic', messages: [{ value: 'x' }] });
    } finally {
      await producer.close();
    }
  },
  MQ_ERR_UNKNOWN_PARTITION: async () => {
    const producer = mq.producer();
    try {
      return await producer.send({ topic: 'errors', messages: [{ value: 'x', partition: 7 }] });
    } finally {
      await producer.close();
    }
  },
  // The producer re-registers when the manager forgot its id; an unknown id is seen at registration.
  MQ_ERR_UNKNOWN_PRODUCER: () =>
    new ManagerClient(http, withDefaults({ manager: cluster.managerUrl })).registerProducer({
      topic: 'errors',
      producerId: 987_654,
    }),
  MQ_ERR_UNKNOWN_CONSUMER: async () => {
    const consumer = mq.consumer({ topics: ['errors'], consumerId: 987_654 });
    for await (const _ of consumer) break;
  },
  MQ_ERR_NOT_REGISTERED: async () => {
    const producer = new MyProducer({ topics: ['errors'], manager: cluster.managerUrl });
    try {
      return await producer.send('other-topic', 'x');
    } finally {
      await producer.stop();
    }
  },
  // Only the logging-queue API answers "nothing left"; the client's consumer long-polls instead.
  MQ_ERR_NO_MESSAGE: async () => {
    const consumer = mq.consumer({ topics: ['errors'], startAt: 'latest' });
    await consumer.connect();
    try {
      return await http.request({
        origin: cluster.managerUrl,
        method: 'GET',
        path: loggingQueueRoutes.consume,
        query: { topic: 'errors', consumer_id: consumer.consumerId, partition: 0 },
        timeoutMs: 10_000,
      });
    } finally {
      await consumer.stop();
    }
  },
  // Two of the three replicas are followers.
  MQ_ERR_NOT_LEADER: async () => {
    const { replicas } = (await mq.metadata(['errors'])).topics[0].partitions[0];
    const results = await Promise.allSettled(
      replicas.map((id) =>
        brokerCall(urlOf(id), 'POST', brokerRoutes.produce('errors', 0), { body: { records: [{ value: 'x' }] } }),
      ),
    );
    const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    throw rejected.find((e) => e instanceof MyQueueError && e.code === 'MQ_ERR_NOT_LEADER') ?? rejected[0];
  },
  // A partition just created has no leader until its first election ends: probe fresh ones.
  MQ_ERR_NO_LEADER: async () => {
    let last: unknown;
    for (let i = 0; i < 5; i++) {
      const t = await mq.createTopic({ name: `fresh-${i}`, partitions: 1, replicationFactor: 3 });
      const results = await Promise.allSettled(
        t.partitions[0].replicas.map((id) =>
          brokerCall(urlOf(id), 'POST', brokerRoutes.produce(t.name, 0), { body: { records: [{ value: 'x' }] } }),
        ),
      );
      for (const r of results) {
        if (r.status === 'rejected' && (r.reason as MyQueueError).code === 'MQ_ERR_NO_LEADER') throw r.reason;
        if (r.status === 'rejected') last = r.reason;
      }
    }
    throw new Error(`no probe hit an election; last error: ${String(last)}`);
  },
  // An answer that does not come in time: a long poll at the end of the partition outlasts the request timeout.
  MQ_ERR_TIMEOUT: async () => {
    const { highWatermark } = await leaderCall<{ highWatermark: number }>('GET', brokerRoutes.status('errors', 0));
    return leaderCall('GET', brokerRoutes.fetch('errors', 0), {
      query: { offset: highWatermark, maxWaitMs: 3000 },
      timeoutMs: 200,
    });
  },
  MQ_ERR_OUT_OF_ORDER_SEQUENCE: async () => {
    const produce = (sequence: number) =>
      leaderCall('POST', brokerRoutes.produce('errors', 0), {
        body: { records: [{ value: `seq ${sequence}` }], producerId: 424_242, sequence },
      });
    await produce(0);
    return produce(5);
  },
  MQ_ERR_OFFSET_OUT_OF_RANGE: () =>
    leaderCall('GET', brokerRoutes.fetch('errors', 0), { query: { offset: 1_000_000 } }),
  // Brokers meet it: a heartbeat from a broker the manager does not know, without its addresses.
  MQ_ERR_UNKNOWN_BROKER: () => heartbeatAs(cluster.clusterToken, { id: 'b99', partitions: [] }),
  MQ_ERR_NOT_ENOUGH_BROKERS: () =>
    mq.createTopic({ name: 'too-wide', partitions: 1, replicationFactor: 5 }, { timeoutMs: 300 }),
  MQ_ERR_NOT_PRIMARY: { notProvoked: 'the local cluster runs one manager, the primary; errors.test.ts maps the body' },
  MQ_ERR_UNAVAILABLE: async () => {
    const nowhere = new MyQueue({ manager: 'http://127.0.0.1:1', retryTimeoutMs: 300 });
    try {
      return await nowhere.listTopics();
    } finally {
      await nowhere.close();
    }
  },
  MQ_ERR_INTERNAL: { notProvoked: 'a server bug; errors.test.ts maps 5xx bodies and unknown codes to it' },
};

describe('typed errors from a real cluster', () => {
  it('has a provocation (or a reason why not) for every code of the protocol', () => {
    expect(Object.keys(provoke).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  const codes = (Object.keys(provoke) as ErrorCode[]).filter((c) => typeof provoke[c] === 'function');
  it.each(codes)('%s arrives as its class with code, status and retriable flag', async (code) => {
    const run = provoke[code] as () => Promise<unknown>;
    const error = await run().then(
      (value) => new Error(`expected ${code}, the call succeeded with ${JSON.stringify(value)}`),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MyQueueError);
    expect(error).toBeInstanceOf(ERROR_CLASSES[code]);
    const e = error as MyQueueError;
    expect(e.code, e.message).toBe(code);
    expect(e.status).toBe(ERROR_CODES[code].status);
    expect(e.retriable).toBe(ERROR_CODES[code].retriable);
    if (code === 'MQ_ERR_NOT_LEADER') expect((e as NotLeaderError).leaderUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    if (code === 'MQ_ERR_UNAVAILABLE') expect((e as UnavailableError).details.sent).toBe(false);
  });
});

describe('codes the client handles itself', () => {
  it('a consumer moved past the end of a partition (MQ_ERR_OFFSET_OUT_OF_RANGE) resets and keeps reading', async () => {
    await mq.createTopic({ name: 'reset', partitions: 1, replicationFactor: 3 });
    const producer = mq.producer();
    await producer.send({ topic: 'reset', messages: [{ value: 'before' }] });
    const consumer = mq.consumer({ topics: ['reset'], maxWaitMs: 200 });
    await consumer.connect();
    consumer.seek('reset', 0, 500);
    const later = setTimeout(() => void producer.send({ topic: 'reset', messages: [{ value: 'after' }] }), 1000);
    const stop = setTimeout(() => void consumer.stop(), 30_000);
    const got: string[] = [];
    for await (const m of consumer) {
      got.push(m.value);
      break;
    }
    clearTimeout(later);
    clearTimeout(stop);
    await consumer.stop();
    await producer.close();
    expect(got).toEqual(['after']);
  });
});
