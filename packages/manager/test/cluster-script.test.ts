/**
 * `npm run cluster` (scripts/cluster.mjs) on non-default ports: it starts, prints where everything is,
 * serves the logging-queue API on the primary and the replica, and stops cleanly on SIGINT (exit 0, temp
 * data dir removed, nothing left listening).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { call, eventually } from './curl.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../../scripts/cluster.mjs');

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port whose whole layout (managers, brokers, peers, PGlite) is free right now. */
async function freeLayout(): Promise<{ port: number; brokerPort: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const brokerPort = port + 10;
    const all = [
      port,
      port + 1,
      port + 99,
      brokerPort,
      brokerPort + 1,
      brokerPort + 2,
      brokerPort + 100,
      brokerPort + 101,
      brokerPort + 102,
    ];
    if ((await Promise.all(all.map(isFree))).every(Boolean)) return { port, brokerPort };
  }
  throw new Error('no free port layout found');
}

it(
  'npm run cluster: starts on the given ports, serves produce/consume, stops cleanly on SIGINT',
  { timeout: 200_000 },
  async () => {
    const { port, brokerPort } = await freeLayout();
    const child = spawn(
      process.execPath,
      [SCRIPT, '--port', String(port), '--broker-port', String(brokerPort), '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually('cluster script ready', 180_000, () => {
        if (child.exitCode !== null) throw new Error(`cluster script exited early:\n${out}`);
        return Promise.resolve(out.includes('Ctrl-C stops everything') ? true : undefined);
      });
      const primary = `http://127.0.0.1:${port}`;
      const replica = `http://127.0.0.1:${port + 1}`;
      expect(out).toContain(`manager primary   ${primary}`);
      expect(out).toContain(`manager replica   ${replica}`);
      expect(out).toContain(`http://127.0.0.1:${brokerPort + 2}`);
      expect(out).toMatch(/cluster token\s+\S{20,}/);
      expect(out).toContain(`curl -s -X POST ${primary}/topics`);
      const dataDir = /data dir\s+(\S+)/.exec(out)![1];
      expect(existsSync(join(dataDir, 'logs'))).toBe(true);

      const producer = await call(replica, 'POST', '/producer/register', { json: { topic: 'demo' } });
      expect(producer.status, producer.text).toBe(200);
      const id = producer.body.producer_id as number;
      expect(
        (
          await call(primary, 'POST', '/producer/produce', {
            json: { topic: 'demo', producer_id: id, message: 'hello' },
          })
        ).status,
      ).toBe(200);
      const consumer = (await call(primary, 'POST', '/consumer/register', { json: { topic: 'demo' } })).body
        .consumer_id as number;
      const got = await call(replica, 'GET', '/consumer/consume', { query: { topic: 'demo', consumer_id: consumer } });
      expect(got.body).toEqual({ status: 'success', message: 'hello' });
      const health = await call(primary, 'GET', '/v1/health');
      expect(health.body.role).toBe('primary');

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toContain('myqueue: stopped');
      expect(existsSync(dataDir)).toBe(false);
      for (const p of [port, port + 1, brokerPort, brokerPort + 100]) expect(await isFree(p)).toBe(true);
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    }
  },
);
