import { FetchResponse } from '@myqueue/protocol';
import Fastify from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../src/broker.js';
import { withDefaults } from '../src/config/options.js';
import { waitFor } from './wait.js';

/** One in-process broker hosting a replication-1 partition; requests go through fastify inject. */
const TOKEN = 'http-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let dir: string;
let broker: RunningBroker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mq-broker-http-'));
  broker = await startBroker(
    withDefaults({
      id: 'b1',
      httpPort: 0,
      peerPort: 0,
      dataDir: dir,
      clusterToken: TOKEN,
      bodyLimit: 64 * 1024,
      tickMs: 10,
    }),
    pino({ level: 'silent' }),
    (err) => {
      throw err;
    },
  );
  const res = await broker.app.inject({
    method: 'PUT',
    url: '/v1/admin/partitions/t/0',
    headers: auth,
    payload: { replicas: [{ id: 'b1', url: broker.url, peer: broker.peer }] },
  });
  expect(res.statusCode).toBe(200);
  await waitFor(() => broker.host.replica('t', 0).isLeader, 10_000, 'single replica to lead');
});

afterAll(async () => {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

const produce = (payload: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  broker.app.inject({
    method: 'POST',
    url: '/v1/partitions/t/0/produce',
    headers,
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
const post = (url: string, payload: object) => broker.app.inject({ method: 'POST', url, payload });
const hw = (): number => broker.host.replica('t', 0).sm.nextOffset;

function expectFailure(
  res: { statusCode: number; json: () => unknown; body: string },
  status: number,
  code: string,
): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json()).toMatchObject({ status: 'failure', code, message: expect.any(String) as string });
  expect(res.body).not.toMatch(/at .*\.(js|ts):\d+/); // never a stack trace
}

describe('broker HTTP API', () => {
  it('produces, fetches, consumes and reports size', async () => {
    const r = await produce({ records: [{ value: 'a' }, { value: 'b', key: 'k', headers: { h: '1' } }] });
    expect(r.json()).toEqual({ status: 'success', baseOffset: 0, count: 2, duplicate: false });
    const f = await broker.app.inject({ url: '/v1/partitions/t/0/fetch?offset=0' });
    expect(f.json()).toMatchObject({ status: 'success', highWatermark: 2, nextOffset: 2, logStartOffset: 0 });
    expect(f.json<{ records: unknown[] }>().records).toEqual([
      { offset: 0, timestamp: expect.any(Number) as number, key: null, value: 'a' },
      { offset: 1, timestamp: expect.any(Number) as number, key: 'k', value: 'b', headers: { h: '1' } },
    ]);
    const c = await broker.app.inject({
      method: 'POST',
      url: '/v1/partitions/t/0/consume',
      payload: { consumerId: 9 },
    });
    expect(c.json()).toMatchObject({ records: [{ offset: 0, value: 'a' }], position: 1 });
    const s = await broker.app.inject({ url: '/v1/partitions/t/0/size?consumerId=9' });
    expect(s.json()).toEqual({ status: 'success', size: 1, position: 1, highWatermark: 2 });
    const o = await broker.app.inject({
      method: 'POST',
      url: '/v1/partitions/t/0/offsets',
      payload: { consumerId: 9, offset: 2 },
    });
    expect(o.json()).toEqual({ status: 'success', position: 2 });
    const empty = await broker.app.inject({
      method: 'POST',
      url: '/v1/partitions/t/0/consume',
      payload: { consumerId: 9 },
    });
    expect(empty.json()).toEqual({ status: 'success', records: [], position: 2 });
    const leaderAcks = await produce({ records: [{ value: 'c' }], acks: 'leader' });
    expect(leaderAcks.json()).toMatchObject({ baseOffset: 2, count: 1 });
  });

  it('answers a fetch with the very bytes the FetchResponse schema serializer writes', async () => {
    // The fetch route bypasses the schema serializer (JSON.stringify is much faster on big answers);
    // a reference route with the documented response schema must write the same body.
    const reference = Fastify();
    let answer: unknown;
    reference.get('/fetch', { schema: { response: { 200: FetchResponse } } }, () => answer);
    await reference.ready();
    const from = hw();
    const tricky = [
      '',
      'plain',
      'quote " and \\ backslash',
      'ctl \u0000\u001f\n\t',
      'ünï €😀',
      'lone \ud800 surrogate',
    ];
    const records = tricky.map((value, i) => ({
      value,
      ...(i % 2 === 0 ? { key: `k"${i}` } : {}),
      ...(i % 3 === 0 ? { headers: { 'h"1': value, h2: '' } } : {}),
    }));
    expect((await produce({ records })).statusCode).toBe(200);
    for (const query of [`offset=${from}`, `offset=${from + 2}&maxMessages=3`, `offset=${hw()}`]) {
      const f = await broker.app.inject({ url: `/v1/partitions/t/0/fetch?${query}` });
      expect(f.statusCode, f.body).toBe(200);
      answer = f.json();
      const ref = await reference.inject({ url: '/fetch' });
      expect(f.body).toBe(ref.body);
      expect(f.headers['content-type']).toBe(ref.headers['content-type']);
    }
    expect(answer).toMatchObject({ records: [] });
    await reference.close();
  });

  it('deduplicates a retried idempotent batch and refuses a sequence gap', async () => {
    const first = await produce({ records: [{ value: 'x' }, { value: 'y' }], producerId: 5, sequence: 0 });
    const retry = await produce({ records: [{ value: 'x' }, { value: 'y' }], producerId: 5, sequence: 0 });
    expect(retry.json()).toEqual({ ...first.json<object>(), duplicate: true });
    const before = hw();
    expectFailure(
      await produce({ records: [{ value: 'z' }], producerId: 5, sequence: 7 }),
      409,
      'MQ_ERR_OUT_OF_ORDER_SEQUENCE',
    );
    expect(hw()).toBe(before);
  });

  it('answers malformed input with 4xx and changes nothing', async () => {
    const before = hw();
    expectFailure(await produce('{"records": [', { 'content-type': 'application/json' }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(await produce({ records: [{ value: 5 }] }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(await produce({ records: [] }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(
      await produce({ records: [{ value: 'a' }], producerId: '5', sequence: 0 }),
      400,
      'MQ_ERR_BAD_REQUEST',
    );
    expectFailure(await produce({ records: [{ value: 'a' }], surprise: true }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(await produce({ records: [{ value: 'a', extra: 1 }] }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(await produce({ records: [{ value: 'a' }], acks: 'some' }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(await produce('records=1', { 'content-type': 'text/plain' }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(await produce({ records: [{ value: 'v'.repeat(70 * 1024) }] }), 413, 'MQ_ERR_PAYLOAD_TOO_LARGE');
    expectFailure(
      await post('/v1/partitions/bad topic!/0/produce', { records: [{ value: 'a' }] }),
      400,
      'MQ_ERR_BAD_REQUEST',
    );
    expectFailure(await post('/v1/partitions/t/x/produce', { records: [{ value: 'a' }] }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(
      await post('/v1/partitions/t/7/produce', { records: [{ value: 'a' }] }),
      404,
      'MQ_ERR_UNKNOWN_PARTITION',
    );
    expectFailure(
      await broker.app.inject({ method: 'POST', url: '/v1/partitions/other/0/consume', payload: { consumerId: 1 } }),
      404,
      'MQ_ERR_UNKNOWN_PARTITION',
    );
    expectFailure(await broker.app.inject({ url: '/v1/partitions/t/0/fetch?offset=abc' }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(await broker.app.inject({ url: '/v1/partitions/t/0/fetch' }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(
      await broker.app.inject({ url: '/v1/partitions/t/0/fetch?offset=9999' }),
      416,
      'MQ_ERR_OFFSET_OUT_OF_RANGE',
    );
    expectFailure(await post('/v1/partitions/t/0/offsets', { consumerId: 0, offset: 1 }), 400, 'MQ_ERR_BAD_REQUEST');
    expectFailure(await broker.app.inject({ url: '/v1/nope' }), 404, 'MQ_ERR_NOT_FOUND');
    expect(hw()).toBe(before);
  });

  it('guards admin routes with the cluster token and validates their bodies', async () => {
    expectFailure(await broker.app.inject({ url: '/v1/health' }), 401, 'MQ_ERR_UNAUTHORIZED');
    expectFailure(
      await broker.app.inject({ url: '/v1/health', headers: { authorization: 'Bearer nope' } }),
      401,
      'MQ_ERR_UNAUTHORIZED',
    );
    expectFailure(
      await broker.app.inject({ method: 'DELETE', url: '/v1/admin/partitions/t/0' }),
      401,
      'MQ_ERR_UNAUTHORIZED',
    );
    expect(broker.host.replicas()).toHaveLength(1);
    const health = await broker.app.inject({ url: '/v1/health', headers: auth });
    expect(health.json()).toMatchObject({
      status: 'success',
      broker: 'b1',
      partitions: [{ topic: 't', partition: 0, role: 'leader', leader: 'b1' }],
    });
    const other = { id: 'b9', url: 'http://127.0.0.1:1', peer: '127.0.0.1:2' };
    expectFailure(
      await broker.app.inject({
        method: 'PUT',
        url: '/v1/admin/partitions/u/0',
        headers: auth,
        payload: { replicas: [other] },
      }),
      400,
      'MQ_ERR_BAD_REQUEST',
    );
    expectFailure(
      await broker.app.inject({
        method: 'PUT',
        url: '/v1/admin/partitions/u/0',
        headers: auth,
        payload: { replicas: [] },
      }),
      400,
      'MQ_ERR_BAD_REQUEST',
    );
    expectFailure(
      await broker.app.inject({
        method: 'POST',
        url: '/v1/admin/partitions/t/0/membership',
        headers: auth,
        payload: { action: 'explode', replica: other },
      }),
      400,
      'MQ_ERR_BAD_REQUEST',
    );
    expect(broker.host.replicas()).toHaveLength(1);
  });

  it('serves status, metrics and the OpenAPI docs', async () => {
    const st = await broker.app.inject({ url: '/v1/partitions/t/0/status' });
    expect(st.json()).toMatchObject({
      status: 'success',
      role: 'leader',
      leader: 'b1',
      replicas: [{ id: 'b1', role: 'voter', lag: 0 }],
    });
    const m = await broker.app.inject({ url: '/metrics' });
    expect(m.body).toMatch(/mq_broker_http_requests_total\{route="\/v1\/partitions\/:topic\/:partition\/produce"/);
    expect(m.body).toMatch(/mq_broker_raft_role\{topic="t",partition="0"\} 3/);
    expect(m.body).toMatch(/mq_broker_storage_commit_seconds_count \d+/);
    const docs = await broker.app.inject({ url: '/docs/json' });
    expect(docs.json<{ paths: Record<string, unknown> }>().paths).toHaveProperty(
      '/v1/partitions/{topic}/{partition}/produce',
    );
  });
});
