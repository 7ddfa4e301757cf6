import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, call, type BrokerProc, type HttpAnswer } from './cluster.js';
import { waitFor } from './wait.js';

/**
 * Three broker processes, one partition replicated 3 times: idempotent batches of one producer that reach
 * the leader out of order (pipelined on separate connections) are proposed in sequence order by the
 * leader's sequence gate; a batch whose predecessor never comes is let go after the gate's wait and
 * rejected by the state machine as before; a leader that steps down lets its parked batches go at once.
 */
const TOPIC = 'gate';
const GATE_MS = 1500;
const cluster = new Cluster({
  LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
  PRODUCE_SEQUENCE_GATE_MS: String(GATE_MS),
});
let leader: BrokerProc;

const produceUrl = (b: BrokerProc): string => `${b.url}/v1/partitions/${TOPIC}/0/produce`;
const batch = (producerId: number, sequence: number, n: number): unknown => ({
  records: Array.from({ length: n }, (_, i) => ({ value: `p${producerId}-s${sequence + i}` })),
  producerId,
  sequence,
});

/** The gate's counter on the leader, by outcome. */
async function parked(outcome: string): Promise<number> {
  const res = await request(`${leader.url}/metrics`);
  const text = await res.body.text();
  const line = text.split('\n').find((l) => l.startsWith(`mq_broker_produce_gate_parked_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(async () => {
  for (const id of ['g1', 'g2', 'g3']) await cluster.add(id);
  const replicas = cluster.brokers.map((b) => ({ id: b.id, url: b.url, peer: b.peer }));
  for (const b of cluster.brokers) {
    const r = await call('PUT', `${b.url}/v1/admin/partitions/${TOPIC}/0`, { replicas }, true);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  await waitFor(
    async () => {
      for (const b of cluster.brokers) {
        const s = await call('GET', `${b.url}/v1/partitions/${TOPIC}/0/status`);
        if (s.body.role === 'leader') {
          leader = b;
          return true;
        }
      }
      return false;
    },
    20_000,
    'a leader',
  );
}, 60_000);

afterAll(async () => {
  await cluster.close();
});

describe('sequence gate (leader)', () => {
  it('proposes two batches of one producer that arrive in reverse order in sequence order', async () => {
    // seq 100 (50 records) is sent first; seq 0 (100 records) a little later, on another connection
    const later: Promise<HttpAnswer> = call('POST', produceUrl(leader), batch(1, 100, 50));
    await new Promise((r) => setTimeout(r, 30));
    const earlier = await call('POST', produceUrl(leader), batch(1, 0, 100));
    const second = await later;
    expect(earlier.status, JSON.stringify(earlier.body)).toBe(200);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(earlier.body).toMatchObject({ baseOffset: 0, count: 100, duplicate: false });
    expect(second.body).toMatchObject({ baseOffset: 100, count: 50, duplicate: false });
    expect(await parked('in-order')).toBe(1);

    const fetched = await call('GET', `${leader.url}/v1/partitions/${TOPIC}/0/fetch?offset=0&maxMessages=200`);
    const values = (fetched.body.records as { value: string }[]).map((r) => r.value);
    expect(values).toEqual(Array.from({ length: 150 }, (_, i) => `p1-s${i}`));
  }, 30_000);

  it('still answers 409 MQ_ERR_OUT_OF_ORDER_SEQUENCE, after the gate wait, when the predecessor never comes', async () => {
    const started = performance.now();
    const res = await call('POST', produceUrl(leader), batch(1, 200, 10)); // 150 is expected
    const elapsed = performance.now() - started;
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.code).toBe('MQ_ERR_OUT_OF_ORDER_SEQUENCE');
    expect(elapsed).toBeGreaterThanOrEqual(GATE_MS - 50); // it waited for a predecessor (timer slack)
    expect(await parked('timeout')).toBe(1);
    // the producer goes on where it was
    const next = await call('POST', produceUrl(leader), batch(1, 150, 10));
    expect(next.body).toMatchObject({ status: 'success', baseOffset: 150, duplicate: false });
  }, 30_000);

  it('keeps answering a retried committed batch as a duplicate without waiting', async () => {
    const res = await call('POST', produceUrl(leader), batch(1, 100, 50));
    expect(res.body).toMatchObject({ status: 'success', baseOffset: 100, duplicate: true });
    expect(await parked('timeout')).toBe(1);
  }, 30_000);

  it('lets parked batches go when the leader hands over leadership: they fail with NOT_LEADER / NO_LEADER', async () => {
    const started = performance.now();
    const waiting = call('POST', produceUrl(leader), batch(2, 100, 5)); // an unknown producer is expected at 0
    await new Promise((r) => setTimeout(r, 50));
    const to = cluster.brokers.find((b) => b !== leader)!;
    const moved = await call(
      'POST',
      `${leader.url}/v1/admin/partitions/${TOPIC}/0/transfer-leadership`,
      { to: to.id },
      true,
    );
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    const res = await waiting;
    // released when this broker stepped down, possibly before it heard of the new leader (then 503)
    expect([421, 503], JSON.stringify(res.body)).toContain(res.status);
    expect(['MQ_ERR_NOT_LEADER', 'MQ_ERR_NO_LEADER']).toContain(res.body.code);
    expect(performance.now() - started).toBeLessThan(GATE_MS);
    expect(await parked('released')).toBe(1);
  }, 30_000);
});
