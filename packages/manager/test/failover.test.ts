/**
 * Health and failover end to end, with short timeouts: brokers and clients go alive -> suspect -> dead in
 * /v1/status, a dead broker is not routed to, and a broker killed (SIGKILL) and kept dead past the reassign
 * timeout has its replicas moved to the live broker by Raft membership change, data intact. (The primary
 * manager's death is in logging-queue-api.test.ts, on both databases.)
 */
import { startLocalCluster, type LocalCluster } from '@myqueue/local-cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, type Answer } from './curl.js';

const TIMEOUTS = {
  MQ_HEARTBEAT_INTERVAL_MS: '300',
  MQ_SUSPECT_AFTER_MS: '1500',
  MQ_DEAD_AFTER_MS: '3000',
  MQ_REASSIGN_AFTER_MS: '5000',
  MQ_HEALTH_CHECK_INTERVAL_MS: '300',
};

interface Status {
  timeouts: { suspectAfterMs: number; deadAfterMs: number; reassignAfterMs: number };
  brokers: { id: string; state: string }[];
  clients: { kind: string; id: number; state: string }[];
  partitions: {
    topic: string;
    partition: number;
    leader: string | null;
    replicas: string[];
    learners: string[];
    liveReplicas: string[];
    state: string;
  }[];
}

describe('health checks and replica moves', () => {
  let cluster: LocalCluster;
  let m: string;
  const ok = (a: Answer) => {
    expect(a.status, a.text).toBe(200);
    return a.body;
  };
  const status = async () => ok(await call(m, 'GET', '/v1/status')) as unknown as Status;

  beforeAll(async () => {
    cluster = await startLocalCluster({ brokers: 4, logLevel: 'warn', managerEnv: TIMEOUTS, startTimeoutMs: 150_000 });
    m = cluster.managerUrl;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('clients go alive -> suspect -> dead without heartbeats, and alive again with one', async () => {
    const producer = ok(await call(m, 'POST', '/producer/register', { json: { topic: 'beats' } }))
      .producer_id as number;
    const state = async () => (await status()).clients.find((c) => c.kind === 'producer' && c.id === producer)?.state;
    expect(await state()).toBe('alive');
    await eventually('producer suspect', 10_000, async () => ((await state()) === 'suspect' ? true : undefined));
    await eventually('producer dead', 10_000, async () => ((await state()) === 'dead' ? true : undefined));
    ok(await call(m, 'POST', '/v1/clients/heartbeat', { json: { kind: 'producer', id: producer } }));
    expect(await state()).toBe('alive');
    const s = await status();
    expect(s.timeouts).toEqual({ suspectAfterMs: 1500, deadAfterMs: 3000, reassignAfterMs: 5000 });
  });

  it('a broker killed and kept dead: suspect, dead, not routed to, then its replicas move to the live broker', async () => {
    ok(await call(m, 'POST', '/topics', { json: { topic_name: 'moving', partitions: 3, replication_factor: 3 } }));
    const producer = ok(await call(m, 'POST', '/producer/register', { json: { topic: 'moving' } }))
      .producer_id as number;
    for (let i = 0; i < 12; i++)
      ok(
        await call(m, 'POST', '/producer/produce', {
          json: { topic: 'moving', producer_id: producer, message: `before-${i}` },
        }),
      );

    const placed = (await status()).partitions.filter((p) => p.topic === 'moving');
    // The broker holding the most replicas of the topic dies; the one holding none receives them.
    const count = (id: string) => placed.filter((p) => p.replicas.includes(id)).length;
    const victim = cluster.brokers.map((b) => b.id).sort((a, b) => count(b) - count(a))[0];
    expect(count(victim)).toBeGreaterThan(0);
    await cluster.killBroker(victim);

    const brokerState = async () => (await status()).brokers.find((b) => b.id === victim)?.state;
    await eventually('victim suspect', 10_000, async () => ((await brokerState()) !== 'alive' ? true : undefined));
    await eventually('victim dead', 10_000, async () => ((await brokerState()) === 'dead' ? true : undefined));
    // Dead brokers are not routed to: metadata leaves them out and no partition names them as leader.
    const md = ok(await call(m, 'GET', '/v1/metadata', { query: { topics: 'moving' } })) as {
      brokers: { id: string }[];
      topics: { partitions: { leader: string | null }[] }[];
    };
    expect(md.brokers.map((b) => b.id)).not.toContain(victim);
    for (const p of md.topics[0].partitions) expect(p.leader).not.toBe(victim);
    // Produces keep working while the victim's replicas are missing (a majority is left).
    for (let i = 0; i < 3; i++)
      ok(
        await call(m, 'POST', '/producer/produce', {
          json: { topic: 'moving', producer_id: producer, message: `during-${i}` },
        }),
      );

    const moved = await eventually('replicas moved off the dead broker', 60_000, async () => {
      const parts = (await status()).partitions.filter((p) => p.topic === 'moving');
      return parts.every(
        (p) => !p.replicas.includes(victim) && p.learners.length === 0 && p.replicas.length === 3 && p.state === 'ok',
      )
        ? parts
        : undefined;
    });
    for (const p of moved) expect(new Set(p.replicas).size).toBe(3);

    // Data intact: a new consumer reads everything, and new produces land on the moved replica sets.
    for (let i = 0; i < 3; i++)
      ok(
        await call(m, 'POST', '/producer/produce', {
          json: { topic: 'moving', producer_id: producer, message: `after-${i}` },
        }),
      );
    const consumer = ok(await call(m, 'POST', '/consumer/register', { json: { topic: 'moving' } }))
      .consumer_id as number;
    expect(ok(await call(m, 'GET', '/size', { query: { topic: 'moving', consumer_id: consumer } })).size).toBe(18);
    const got: string[] = [];
    for (let i = 0; i < 18; i++)
      got.push(
        ok(await call(m, 'GET', '/consumer/consume', { query: { topic: 'moving', consumer_id: consumer } }))
          .message as string,
      );
    const expected = [
      ...Array.from({ length: 12 }, (_, i) => `before-${i}`),
      ...[0, 1, 2].map((i) => `during-${i}`),
      ...[0, 1, 2].map((i) => `after-${i}`),
    ];
    expect(got.sort()).toEqual(expected.sort());

    // Every replica of every moved partition holds the whole log (the new member caught up through Raft).
    const auth = { authorization: `Bearer ${cluster.clusterToken}` };
    const agreed = await eventually("every replica holds its partition's whole log", 15_000, async () => {
      const perPartition: number[] = [];
      for (const p of moved) {
        const hws = new Set<number>();
        for (const id of p.replicas) {
          const b = cluster.brokers.find((x) => x.id === id)!;
          const s = await call(b.url, 'GET', `/v1/partitions/moving/${p.partition}/status`, { headers: auth });
          hws.add(Number(s.body.highWatermark));
        }
        if (hws.size !== 1) return undefined;
        perPartition.push([...hws][0]);
      }
      return perPartition;
    });
    expect(agreed.reduce((a, b) => a + b, 0)).toBe(18);
  });

  it('every live broker serves Prometheus metrics: Raft role, term and commit per partition, produce and fsync latency', async () => {
    for (const b of cluster.brokers.filter((x) => x.pid !== undefined)) {
      const m = await call(b.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${cluster.clusterToken}` } });
      expect(m.status, m.text).toBe(200);
      for (const name of [
        'mq_broker_raft_role',
        'mq_broker_raft_term',
        'mq_broker_raft_commit_index',
        'mq_broker_produce_seconds',
        'mq_broker_storage_commit_seconds',
      ]) {
        expect(m.text).toContain(name);
      }
    }
  });
});
