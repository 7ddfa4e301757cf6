/**
 * Tokens, limits, validation and /metrics on a real manager (in this process, embedded PGlite, real HTTP):
 * inter-service and admin routes need the cluster token; client routes are open unless a client token is
 * configured; failures never carry a stack trace.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManager, type ManagerHandle } from '../src/index.js';
import { call, isFailure, type Answer } from './curl.js';

const CLUSTER = 'cluster-secret-0123456789';
const CLIENT = 'client-secret-0123456789';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function expectFailure(a: Answer, status: number, code?: string): void {
  expect(isFailure(a), a.text).toBe(true);
  expect(a.status, a.text).toBe(status);
  if (code) expect(a.body.code).toBe(code);
}

describe('a manager with a cluster token', () => {
  let manager: ManagerHandle;
  let url: string;
  beforeAll(async () => {
    manager = await startManager(
      { port: 0, clusterToken: CLUSTER, bodyLimitBytes: 64 * 1024 },
      pino({ level: 'silent' }),
    );
    url = manager.url;
  });
  afterAll(async () => {
    await manager?.close();
  });

  const broker = { id: 'b9', url: 'http://127.0.0.1:1', peer: '127.0.0.1:2' };
  const admin: [string, 'POST' | 'DELETE', unknown][] = [
    ['/v1/brokers/register', 'POST', broker],
    ['/v1/brokers/heartbeat', 'POST', { id: 'b9', partitions: [] }],
    ['/v1/topics/anything', 'DELETE', undefined],
    ['/v1/admin/partitions/anything/0/reassign', 'POST', { replicas: ['b9'] }],
    ['/v1/admin/rebalance-leaders', 'POST', undefined],
  ];

  it('refuses inter-service and admin routes without the cluster token or with a wrong one', async () => {
    for (const [path, method, json] of admin) {
      expectFailure(await call(url, method, path, { json }), 401, 'MQ_ERR_UNAUTHORIZED');
      expectFailure(await call(url, method, path, { json, headers: bearer('wrong') }), 401, 'MQ_ERR_UNAUTHORIZED');
      expectFailure(await call(url, method, path, { json, headers: bearer(CLIENT) }), 401, 'MQ_ERR_UNAUTHORIZED');
    }
    expect((await call(url, 'POST', '/v1/brokers/register', { json: broker, headers: bearer(CLUSTER) })).status).toBe(
      200,
    );
    expect(
      (
        await call(url, 'POST', '/v1/brokers/heartbeat', {
          json: { id: 'b9', partitions: [] },
          headers: bearer(CLUSTER),
        })
      ).status,
    ).toBe(200);
  });

  it('keeps client routes open when no client token is configured', async () => {
    expect((await call(url, 'GET', '/topics')).status).toBe(200);
    expect((await call(url, 'GET', '/v1/status')).status).toBe(200);
    expect((await call(url, 'GET', '/v1/health')).status).toBe(200);
  });

  it('validates every body against its schema and limits its size', async () => {
    expectFailure(
      await call(url, 'POST', '/v1/brokers/register', { json: { id: 'b9' }, headers: bearer(CLUSTER) }),
      400,
      'MQ_ERR_BAD_REQUEST',
    );
    expectFailure(
      await call(url, 'POST', '/v1/brokers/register', {
        json: { ...broker, id: 'no spaces allowed' },
        headers: bearer(CLUSTER),
      }),
      400,
    );
    expectFailure(await call(url, 'POST', '/v1/clients/heartbeat', { json: { kind: 'robot', id: 1 } }), 400);
    expectFailure(await call(url, 'POST', '/v1/topics', { json: { name: 'x', partitions: -1 } }), 400);
    expectFailure(
      await call(url, 'POST', '/producer/register', { json: { topic: 'a'.repeat(100 * 1024) } }),
      413,
      'MQ_ERR_PAYLOAD_TOO_LARGE',
    );
    expectFailure(
      await call(url, 'GET', '/size', {
        raw: `{"topic":"${'a'.repeat(100 * 1024)}"}`,
        headers: { 'content-type': 'application/json' },
      }),
      413,
    );
  });

  it('serves Prometheus metrics: requests and errors by route, primary flag, broker states', async () => {
    await call(url, 'GET', '/topics');
    await call(url, 'POST', '/consumer/register', { json: { topic: 'missing' } });
    const m = await call(url, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.text).toMatch(/mq_manager_requests_total\{route="\/topics",method="GET",status="200"\} \d+/);
    expect(m.text).toMatch(/mq_manager_errors_total\{route="\/consumer\/register",code="MQ_ERR_UNKNOWN_TOPIC"\} \d+/);
    expect(m.text).toMatch(/mq_manager_is_primary 1/);
    expect(m.text).toContain('mq_manager_request_duration_seconds_bucket');
    expect(m.text).toContain('mq_manager_produce_seconds');
    expect(m.text).toContain('mq_consumer_lag_messages');
  });
});

describe('a manager with a client token', () => {
  let manager: ManagerHandle;
  let url: string;
  beforeAll(async () => {
    manager = await startManager({ port: 0, clusterToken: CLUSTER, clientToken: CLIENT }, pino({ level: 'silent' }));
    url = manager.url;
  });
  afterAll(async () => {
    await manager?.close();
  });

  it('requires it (or the cluster token) on client routes, but not on health and metrics', async () => {
    expectFailure(await call(url, 'GET', '/topics'), 401, 'MQ_ERR_UNAUTHORIZED');
    expectFailure(
      await call(url, 'POST', '/producer/register', { json: { topic: 't' }, headers: bearer('nope') }),
      401,
    );
    expect((await call(url, 'GET', '/topics', { headers: bearer(CLIENT) })).status).toBe(200);
    expect((await call(url, 'GET', '/topics', { headers: bearer(CLUSTER) })).status).toBe(200);
    expect((await call(url, 'GET', '/v1/health')).status).toBe(200);
    expect((await call(url, 'GET', '/metrics')).status).toBe(200);
  });
});
