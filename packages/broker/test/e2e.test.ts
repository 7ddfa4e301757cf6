import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, call, type BrokerProc, type HttpAnswer } from './cluster.js';
import { waitFor } from './wait.js';

/**
 * Three broker processes on 127.0.0.1, a topic of 3 partitions replicated 3 times: produce, consume,
 * kill -9 a leader, restart it, wipe a follower. Raft logs are compacted every 50 entries so a wiped
 * follower can only come back through a snapshot.
 */
const TOPIC = 'orders';
const PARTITIONS = 3;
const cluster = new Cluster({
  RAFT_COMPACT_ENTRIES: '50',
  RAFT_COMPACT_RETAIN: '10',
  LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
});
let brokers: BrokerProc[] = [];
const acked = new Map<number, Map<number, string>>(); // partition -> offset -> value

const p = (url: string, partition: number, what: string): string =>
  `${url}/v1/partitions/${TOPIC}/${partition}/${what}`;
const live = (): BrokerProc[] => brokers.filter((b) => b.proc);

async function leaderOf(partition: number): Promise<BrokerProc | undefined> {
  for (const b of live()) {
    const s = await call('GET', p(b.url, partition, 'status')).catch(() => undefined);
    if (s?.status === 200 && s.body.role === 'leader') return b;
  }
  return undefined;
}

/** Storage transactions the broker committed so far (its mq_broker_storage_commit_seconds count). */
async function commits(b: BrokerProc): Promise<number> {
  const res = await fetch(`${b.url}/metrics`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith('mq_broker_storage_commit_seconds_count'));
  return Number(line?.split(' ').pop());
}

/** Sends to the partition leader, following 421 answers and retrying while there is none (bounded). */
async function toLeader(
  partition: number,
  what: string,
  body: unknown,
  method: 'POST' | 'GET' = 'POST',
): Promise<HttpAnswer> {
  const deadline = Date.now() + 20_000;
  let url = (await leaderOf(partition))?.url ?? brokers[0].url;
  for (;;) {
    const res: HttpAnswer = await call(method, p(url, partition, what), body).catch((err: unknown): HttpAnswer => ({
      status: 0,
      body: { message: String(err) },
    }));
    if (res.status === 200 || Date.now() > deadline) return res;
    if (res.status === 421 && typeof res.body.leaderUrl === 'string') url = res.body.leaderUrl;
    else {
      if (![0, 421, 503, 504].includes(res.status)) return res;
      await new Promise((r) => setTimeout(r, 100));
      url = (await leaderOf(partition))?.url ?? url;
    }
  }
}

/** An admin call to the partition leader (retried while there is none). */
async function toLeaderAdmin(partition: number, what: string, body: unknown): Promise<HttpAnswer> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const leader = await leaderOf(partition);
    const res = leader
      ? await call('POST', `${leader.url}/v1/admin/partitions/${TOPIC}/${partition}/${what}`, body, true)
      : { status: 503, body: {} };
    if (res.status === 200 || Date.now() > deadline || ![421, 503, 504].includes(res.status)) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sequences = new Map<number, number>(); // per partition, as Kafka's idempotent producers do
async function produceAcked(partition: number, values: string[], producerId = 77): Promise<void> {
  const seq = sequences.get(partition) ?? 0;
  sequences.set(partition, seq + values.length);
  const res = await toLeader(partition, 'produce', {
    records: values.map((value) => ({ value })),
    producerId,
    sequence: seq,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const base = res.body.baseOffset as number;
  const map = acked.get(partition) ?? new Map<number, string>();
  acked.set(partition, map);
  values.forEach((v, i) => map.set(base + i, v));
}

async function replicaRecords(b: BrokerProc, partition: number): Promise<{ offset: number; value: string }[]> {
  const out: { offset: number; value: string }[] = [];
  for (let offset = 0; ;) {
    const r = await call(
      'GET',
      `${b.url}/v1/admin/partitions/${TOPIC}/${partition}/records?offset=${offset}&maxMessages=1000&maxBytes=10000000`,
      undefined,
      true,
    );
    expect(r.status).toBe(200);
    const recs = r.body.records as { offset: number; value: string }[];
    if (recs.length === 0) return out;
    out.push(...recs.map(({ offset: o, value }) => ({ offset: o, value })));
    offset = r.body.nextOffset as number;
  }
}

/** Every live replica of `partition` holds exactly the same records, which include every acked one once. */
async function expectIdentical(partition: number): Promise<void> {
  const leader = await leaderOf(partition);
  expect(leader).toBeDefined();
  const hw = (await call('GET', p(leader!.url, partition, 'status'))).body.highWatermark as number;
  await waitFor(
    async () => {
      for (const b of live())
        if ((await call('GET', p(b.url, partition, 'status'))).body.highWatermark !== hw) return false;
      return true;
    },
    30_000,
    `replicas of partition ${partition} to reach ${hw}`,
  );
  const all = await Promise.all(live().map((b) => replicaRecords(b, partition)));
  for (const r of all.slice(1)) expect(r).toEqual(all[0]);
  const records = all[0];
  expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
  const byOffset = new Map(records.map((r) => [r.offset, r.value]));
  for (const [offset, value] of acked.get(partition) ?? []) expect(byOffset.get(offset)).toBe(value);
  expect(new Set(records.map((r) => r.value)).size).toBe(records.length);
}

beforeAll(async () => {
  for (const id of ['b1', 'b2', 'b3']) await cluster.add(id);
  brokers = cluster.brokers;
}, 60_000);

afterAll(async () => {
  await cluster.close();
});

describe('three brokers, replication 3', () => {
  it('creates a topic of several partitions, produces and reads everything back in order', async () => {
    const replicas = brokers.map((b) => ({ id: b.id, url: b.url, peer: b.peer }));
    for (let part = 0; part < PARTITIONS; part++) {
      for (const b of brokers) {
        const r = await call('PUT', `${b.url}/v1/admin/partitions/${TOPIC}/${part}`, { replicas }, true);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
      }
    }
    for (let part = 0; part < PARTITIONS; part++)
      await waitFor(async () => (await leaderOf(part)) !== undefined, 20_000, `a leader for ${part}`);

    for (let round = 0; round < 20; round++) {
      await Promise.all(
        [...Array(PARTITIONS).keys()].map((part) =>
          produceAcked(
            part,
            Array.from({ length: 25 }, (_, i) => `p${part}-r${round}-${i}`),
          ),
        ),
      );
    }
    for (let part = 0; part < PARTITIONS; part++) {
      const fetched: string[] = [];
      for (let offset = 0; fetched.length < 500;) {
        const r = await toLeader(part, `fetch?offset=${offset}&maxMessages=200`, undefined, 'GET');
        expect(r.status).toBe(200);
        const recs = r.body.records as { offset: number; value: string }[];
        expect(recs[0].offset).toBe(offset);
        fetched.push(...recs.map((x) => x.value));
        offset = r.body.nextOffset as number;
      }
      expect(fetched).toEqual(Array.from({ length: 500 }, (_, k) => `p${part}-r${Math.floor(k / 25)}-${k % 25}`));
    }

    // consume-next advances a registered consumer through Raft; size counts what is left
    const first = await toLeader(1, 'consume', { consumerId: 5, maxMessages: 3 });
    expect((first.body.records as { value: string }[]).map((r) => r.value)).toEqual(['p1-r0-0', 'p1-r0-1', 'p1-r0-2']);
    expect(first.body.position).toBe(3);
    const size = await toLeader(1, 'size?consumerId=5', undefined, 'GET');
    expect(size.body).toMatchObject({ size: 497, position: 3, highWatermark: 500 });

    // a long poll wakes up when a record arrives
    const poll = toLeader(2, 'fetch?offset=500&maxWaitMs=10000', undefined, 'GET');
    await new Promise((r) => setTimeout(r, 200));
    await produceAcked(2, ['late']);
    expect(((await poll).body.records as { value: string }[]).map((r) => r.value)).toEqual(['late']);

    // an idle group only exchanges heartbeats, which need no storage transaction
    await new Promise((r) => setTimeout(r, 300)); // followers learn the last commit index
    const before = await Promise.all(brokers.map(commits));
    await new Promise((r) => setTimeout(r, 1000)); // 20 heartbeat rounds per group
    expect(await Promise.all(brokers.map(commits))).toEqual(before);

    // a follower names the leader
    const leader = (await leaderOf(0))!;
    const follower = brokers.find((b) => b !== leader)!;
    const redirected = await call('POST', p(follower.url, 0, 'produce'), { records: [{ value: 'x' }] });
    expect(redirected.status).toBe(421);
    expect(redirected.body).toMatchObject({
      status: 'failure',
      code: 'MQ_ERR_NOT_LEADER',
      leader: leader.id,
      leaderUrl: leader.url,
    });
  }, 60_000);

  it('survives kill -9 of a partition leader: new leader, no acked message lost or duplicated, restart catches up', async () => {
    const victim = (await leaderOf(0))!;
    await cluster.kill(victim);
    await waitFor(
      async () => {
        const l = await leaderOf(0);
        return l !== undefined && l !== victim;
      },
      20_000,
      'a new leader for partition 0',
    );
    for (let round = 0; round < 5; round++)
      await produceAcked(
        0,
        Array.from({ length: 10 }, (_, i) => `after-kill-${round}-${i}`),
      );
    // the consumer's position (replicated) survived on the other partitions' leaders
    const size = await toLeader(1, 'size?consumerId=5', undefined, 'GET');
    expect(size.body.position).toBe(3);
    await cluster.start(victim);
    for (let part = 0; part < PARTITIONS; part++) await expectIdentical(part);
  }, 90_000);

  it('brings back a follower restarted with an empty data directory (membership change + snapshot)', async () => {
    const leader = (await leaderOf(1))!;
    const victim = brokers.find((b) => b !== leader)!;
    const self = { id: victim.id, url: victim.url, peer: victim.peer };
    await cluster.stop(victim);
    cluster.wipe(victim);
    // more entries than the compaction threshold, so partition 1's log no longer reaches back to the start
    for (let round = 0; round < 60; round++) await produceAcked(1, [`wiped-${round}`]);
    // A broker that lost its disk lost its Raft votes too: the manager's way back is to remove it from
    // each group and add it again as a fresh member (learner, then voter), never to reuse its old slot.
    const membership = (part: number, action: string): Promise<HttpAnswer> =>
      toLeaderAdmin(part, 'membership', { action, replica: self });
    for (let part = 0; part < PARTITIONS; part++) expect((await membership(part, 'remove')).status).toBe(200);
    await cluster.start(victim);
    const replicas = brokers.map((b) => ({ id: b.id, url: b.url, peer: b.peer }));
    for (let part = 0; part < PARTITIONS; part++) {
      const r = await call('PUT', `${victim.url}/v1/admin/partitions/${TOPIC}/${part}`, { replicas, join: true }, true);
      expect(r.status).toBe(200);
      expect((await membership(part, 'add-learner')).status).toBe(200);
    }
    try {
      for (let part = 0; part < PARTITIONS; part++) {
        await waitFor(
          async () => {
            const st = (await call('GET', p((await leaderOf(part))!.url, part, 'status'))).body;
            const me = (st.replicas as { id: string; lag?: number }[]).find((r) => r.id === victim.id);
            return me?.lag === 0;
          },
          30_000,
          `learner ${victim.id} to catch up on partition ${part}`,
        );
        expect((await membership(part, 'promote')).status).toBe(200);
      }
      for (let part = 0; part < PARTITIONS; part++) await expectIdentical(part);
    } catch (err) {
      for (const b of live())
        for (let part = 0; part < PARTITIONS; part++)
          console.log(b.id, JSON.stringify((await call('GET', p(b.url, part, 'status'))).body));
      if (process.env.E2E_LOG_LEVEL) for (const b of brokers) console.log(`----- ${b.id}\n${b.log.join('')}`);
      throw err;
    }
    const size = await call('GET', p((await leaderOf(1))!.url, 1, 'size?consumerId=5'));
    expect(size.body.position).toBe(3);
  }, 90_000);
});
