/**
 * The logging-queue API (docs/api.md), end to end: a manager primary and a read-only replica and three
 * brokers as real processes, plain HTTP as old scripts send it. The same suite runs on the embedded PGlite
 * and, when reachable, on real Postgres; it ends by killing the primary and registering through the replica.
 */
import { startLocalCluster, type LocalCluster } from '@myqueue/local-cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, isFailure, reachablePostgres, type Answer } from './curl.js';

const postgres = await reachablePostgres();
const backends = [
  { name: 'PGlite', postgresUrl: undefined, skip: false },
  { name: 'Postgres', postgresUrl: postgres, skip: postgres === undefined },
];

const FAST_ELECTION = { MQ_MANAGER_ELECTION_INTERVAL_MS: '500', MQ_MANAGER_LEASE_TTL_MS: '3000' };

describe.each(backends)('logging-queue API on $name', ({ postgresUrl, skip }) => {
  let cluster: LocalCluster;
  let m: string; // the primary
  let r: string; // the replica

  const post = (base: string, path: string, json?: unknown) => call(base, 'POST', path, { json });
  const get = (base: string, path: string, query?: Record<string, string | number>) =>
    call(base, 'GET', path, { query });
  const ok = (a: Answer) => {
    expect(a.status, a.text).toBe(200);
    expect(a.body.status, a.text).toBe('success');
    return a.body;
  };
  const fails = (a: Answer, status?: number) => {
    expect(isFailure(a), a.text).toBe(true);
    if (status !== undefined) expect(a.status, a.text).toBe(status);
    return a.body.message as string;
  };
  const register = async (kind: 'producer' | 'consumer', topic: string, base = m) => {
    const b = ok(await post(base, `/${kind}/register`, { topic }));
    const id = b[`${kind}_id`];
    expect(Number.isInteger(id)).toBe(true);
    return id as number;
  };
  const produce = async (topic: string, producerId: number, message: string, partition?: number, base = m) =>
    ok(
      await post(base, '/producer/produce', {
        topic,
        producer_id: producerId,
        message,
        ...(partition === undefined ? {} : { partition }),
      }),
    );
  const consume = (topic: string, consumerId: number, extra: Record<string, number> = {}, base = m) =>
    get(base, '/consumer/consume', { topic, consumer_id: consumerId, ...extra });
  const size = async (topic: string, consumerId: number, extra: Record<string, number> = {}) =>
    ok(await get(m, '/size', { topic, consumer_id: consumerId, ...extra })).size;

  beforeAll(async () => {
    if (skip) return;
    cluster = await startLocalCluster({
      brokers: 3,
      managers: 2,
      logLevel: 'warn',
      postgresUrl,
      databasePrefix: 'manager',
      managerEnv: FAST_ELECTION,
      startTimeoutMs: 150_000,
    });
    [m, r] = cluster.managerUrls;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it.skipIf(skip)(
    'POST /topics creates a topic (topic_name or name, partitions, replication_factor); an existing one fails',
    async () => {
      expect(ok(await post(m, '/topics', { topic_name: 'orders' }))).toEqual({
        status: 'success',
        message: "Topic 'orders' created successfully",
      });
      expect(ok(await post(m, '/topics', { name: 'wide', partitions: 3, replication_factor: 2 })).message).toBe(
        "Topic 'wide' created successfully",
      );
      const wide = ok(await get(m, '/v1/topics/wide')).topic as { partitions: { replicas: string[] }[] };
      expect(wide.partitions).toHaveLength(3);
      for (const p of wide.partitions) expect(p.replicas).toHaveLength(2);
      const orders = ok(await get(m, '/v1/topics/orders')).topic as { partitions: { replicas: string[] }[] };
      expect(orders.partitions).toHaveLength(1); // the logging-queue API's default
      expect(orders.partitions[0].replicas).toHaveLength(3);

      expect(fails(await post(m, '/topics', { topic_name: 'orders' }), 409)).toBe("Topic 'orders' already exists");
      fails(await post(r, '/topics', { name: 'orders' }), 409); // through the replica too
      fails(await post(m, '/topics', {}), 400);
      fails(await post(m, '/topics', { topic_name: 'bad', partitions: 0 }), 400);
      fails(await post(m, '/topics', { topic_name: 'bad', replication_factor: 9 }), 400);
      fails(
        await call(m, 'POST', '/topics', { raw: '{"topic_name":', headers: { 'content-type': 'application/json' } }),
        400,
      );

      // Created through the replica (forwarded to the primary), listed by both.
      ok(await post(r, '/topics', { topic_name: 'via-replica' }));
      for (const base of [m, r]) {
        const topics = ok(await get(base, '/topics')).topics as string[];
        expect(topics).toEqual(expect.arrayContaining(['orders', 'wide', 'via-replica']));
      }
    },
  );

  it.skipIf(skip)(
    '/producer/register creates a missing topic; /consumer/register fails on one; ids are integers',
    async () => {
      const p1 = await register('producer', 'fresh');
      expect(ok(await get(m, '/topics')).topics).toContain('fresh');
      const p2 = ok(await post(r, '/producer/register', { topic_name: 'fresh' })).producer_id as number;
      expect(Number.isInteger(p2) && p2 !== p1).toBe(true);
      const c1 = await register('consumer', 'fresh', r);
      expect(Number.isInteger(c1)).toBe(true);

      expect(fails(await post(m, '/consumer/register', { topic: 'no-such-topic' }), 404)).toBe(
        "Topic 'no-such-topic' does not exist",
      );
      expect(ok(await get(m, '/topics')).topics).not.toContain('no-such-topic');
      fails(await post(m, '/consumer/register', {}), 400);
      fails(await post(m, '/producer/register', { topic: 'fresh', partition: 5 }));
      fails(await post(m, '/producer/register', { topic: 'x'.repeat(300) }), 400);
    },
  );

  it.skipIf(skip)('/producer/produce succeeds for a registered producer and fails for anything else', async () => {
    const producer = await register('producer', 'orders');
    const other = await register('producer', 'wide');
    expect(
      ok(await post(m, '/producer/produce', { topic: 'orders', producer_id: producer, message: 'hello' })),
    ).toEqual({ status: 'success' });
    // Query-string parameters, topic_name, and through the replica.
    ok(
      await call(r, 'POST', '/producer/produce', {
        query: { topic_name: 'orders', producer_id: producer, message: 'world' },
      }),
    );

    expect(
      fails(await post(m, '/producer/produce', { topic: 'nope', producer_id: producer, message: 'x' }), 404),
    ).toMatch(/Topic 'nope' does not exist/);
    expect(
      fails(await post(m, '/producer/produce', { topic: 'orders', producer_id: 999_999, message: 'x' }), 404),
    ).toMatch(/producer 999999 does not exist/);
    expect(fails(await post(m, '/producer/produce', { topic: 'orders', producer_id: other, message: 'x' }))).toMatch(
      /not registered for topic 'orders'/,
    );
    fails(await post(m, '/producer/produce', { topic: 'orders', producer_id: producer }), 400);
    fails(await post(m, '/producer/produce', { topic: 'orders', producer_id: 'abc', message: 'x' }), 400);
    fails(await post(m, '/producer/produce', { topic: 'orders', producer_id: 1.5, message: 'x' }), 400);
    fails(await post(m, '/producer/produce', { topic: 'orders', producer_id: producer, message: 'x', partition: 7 }));

    const consumer = await register('consumer', 'orders');
    expect(await size('orders', consumer)).toBe(2);
  });

  it.skipIf(skip)(
    '/consumer/consume takes params from the query string or a JSON body, advances by one, and fails when nothing is left',
    async () => {
      const producer = await register('producer', 'letters');
      for (const letter of ['a', 'b', 'c']) await produce('letters', producer, letter);
      const consumer = await register('consumer', 'letters');
      expect(await size('letters', consumer)).toBe(3);

      expect(ok(await consume('letters', consumer))).toEqual({ status: 'success', message: 'a' });
      // GET with a JSON body, as old scripts send it; topic_name for topic.
      expect(
        ok(await call(m, 'GET', '/consumer/consume', { json: { topic_name: 'letters', consumer_id: consumer } }))
          .message,
      ).toBe('b');
      expect(await size('letters', consumer)).toBe(1);
      // Size with a JSON body too, and on the replica.
      expect(ok(await call(r, 'GET', '/size', { json: { topic: 'letters', consumer_id: consumer } })).size).toBe(1);
      expect(ok(await consume('letters', consumer, { partition: 0 }, r)).message).toBe('c');
      expect(await size('letters', consumer)).toBe(0);

      expect(fails(await consume('letters', consumer), 404)).toBe(
        `No new messages in topic 'letters' for consumer ${consumer}`,
      );
      fails(await consume('nope', consumer), 404);
      expect(fails(await consume('letters', 999_999), 404)).toMatch(/consumer 999999 does not exist/);
      const stranger = await register('consumer', 'orders');
      expect(fails(await consume('letters', stranger))).toMatch(/not registered for topic 'letters'/);
      fails(await get(m, '/consumer/consume', { topic: 'letters' }), 400);
      fails(await get(m, '/size', { consumer_id: consumer }), 400);
      fails(await get(m, '/consumer/consume', { topic: 'letters', consumer_id: consumer, partition: 3 }));
      fails(await get(m, '/size', { topic: 'letters', consumer_id: 'x' }), 400);
    },
  );

  it.skipIf(skip)('a new consumer reads from the beginning of the topic', async () => {
    const producer = await register('producer', 'history');
    for (let i = 0; i < 4; i++) await produce('history', producer, `h${i}`);
    const first = await register('consumer', 'history');
    for (let i = 0; i < 4; i++) expect(ok(await consume('history', first)).message).toBe(`h${i}`);
    const late = await register('consumer', 'history');
    expect(await size('history', late)).toBe(4);
    expect(ok(await consume('history', late)).message).toBe('h0');
  });

  it.skipIf(skip)(
    'round-robin: 30 produces to a 3-partition topic put 10 in each; consumes rotate and skip empty partitions',
    async () => {
      ok(await post(m, '/topics', { topic_name: 'rr', partitions: 3 }));
      const producer = await register('producer', 'rr');
      for (let i = 0; i < 30; i++) await produce('rr', producer, `m${i}`);
      const consumer = await register('consumer', 'rr');
      for (const partition of [0, 1, 2]) expect(await size('rr', consumer, { partition })).toBe(10);
      expect(await size('rr', consumer)).toBe(30);

      // Consumes rotate over the partitions: the first three come from three different partitions.
      const firstThree: string[] = [];
      for (let i = 0; i < 3; i++) firstThree.push(String(ok(await consume('rr', consumer)).message));
      const partitionOf = (msg: string) => Number(msg.slice(1)) % 3; // m0 -> p0, m1 -> p1, ... when produces rotate from 0
      expect(new Set(firstThree.map(partitionOf)).size).toBe(3);
      for (const partition of [0, 1, 2]) expect(await size('rr', consumer, { partition })).toBe(9);

      // Partition 1 left empty: the rotation skips it.
      ok(await post(m, '/topics', { topic_name: 'gaps', partitions: 3 }));
      const gp = await register('producer', 'gaps');
      await produce('gaps', gp, 'p0-a', 0);
      await produce('gaps', gp, 'p0-b', 0);
      await produce('gaps', gp, 'p2-a', 2);
      const gc = await register('consumer', 'gaps');
      const got = [];
      for (let i = 0; i < 3; i++) got.push(ok(await consume('gaps', gc)).message);
      expect(got).toEqual(['p0-a', 'p2-a', 'p0-b']);
      fails(await consume('gaps', gc), 404);
      expect(fails(await consume('gaps', gc, { partition: 1 }), 404)).toMatch(/partition 1 of topic 'gaps'/);
    },
  );

  it.skipIf(skip)('registering for one partition pins produce, consume and size to it', async () => {
    ok(await post(m, '/topics', { topic_name: 'pinned', partitions: 2 }));
    const producer = ok(await post(m, '/producer/register', { topic: 'pinned', partition: 1 })).producer_id as number;
    for (let i = 0; i < 3; i++) await produce('pinned', producer, `x${i}`);
    fails(await post(m, '/producer/produce', { topic: 'pinned', producer_id: producer, message: 'y', partition: 0 }));
    const consumer = ok(await post(m, '/consumer/register', { topic: 'pinned', partition: 1 })).consumer_id as number;
    expect(await size('pinned', consumer)).toBe(3);
    const all = await register('consumer', 'pinned');
    expect(await size('pinned', all, { partition: 0 })).toBe(0);
    expect(await size('pinned', all, { partition: 1 })).toBe(3);
  });

  /**
   * A 2 MiB body against the 1 MiB limit. The server answers 413 from the content-length, before it
   * reads the body, and may close the connection while the client is still writing it: the client then
   * sees EPIPE or ECONNRESET instead of the answer (a TCP race, not a server error). Such an attempt is
   * repeated; the answer itself must be the 413.
   */
  async function tooLarge(method: 'GET' | 'POST', path: string): Promise<Answer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(m, method, path, {
          raw: 'x'.repeat(2 << 20),
          headers: { 'content-type': 'application/json' },
        });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 5 || !['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(code ?? '')) throw err;
      }
    }
  }

  it.skipIf(skip)('every failure is a 4xx {"status":"failure","message"} without a stack trace', async () => {
    fails(await get(m, '/no/such/route'), 404);
    fails(await call(m, 'POST', '/topics', { raw: 'not json', headers: { 'content-type': 'application/json' } }), 400);
    fails(await tooLarge('POST', '/producer/produce'), 413);
    fails(await tooLarge('GET', '/consumer/consume'), 413);
    fails(await call(m, 'POST', '/topics', { raw: 'topic_name=x', headers: { 'content-type': 'text/plain' } }));
    fails(await post(m, '/topics', { topic_name: 'has space' }), 400);
  });

  it.skipIf(skip)('the primary killed: the replica takes over and registrations keep working', async () => {
    const before = ok(await get(r, '/v1/health'));
    expect(before.role).toBe('replica');
    const producer = await register('producer', 'survivor');
    await produce('survivor', producer, 'before');

    await cluster.killManager('manager');
    // Old scripts do not retry: the replica holds the write until it is primary, then serves it.
    const consumer = await register('consumer', 'survivor', r);
    expect(ok(await get(r, '/v1/health')).role).toBe('primary');
    const late = await register('producer', 'born-after-takeover', r);
    await produce('born-after-takeover', late, 'after', undefined, r);
    await produce('survivor', producer, 'after', undefined, r);
    expect(ok(await consume('survivor', consumer, {}, r)).message).toBe('before');
    expect(ok(await consume('survivor', consumer, {}, r)).message).toBe('after');

    // The old primary comes back as a replica and forwards writes to the new primary.
    await cluster.startManager('manager');
    const health = await eventually('restarted manager sees the new primary', 20_000, async () => {
      const h = ok(await get(m, '/v1/health'));
      return (h.primary as { id: string } | null)?.id === 'manager-2' ? h : undefined;
    });
    expect(health.role).toBe('replica');
    await register('producer', 'survivor', m);
  });
});
