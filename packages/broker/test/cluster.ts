import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

/** Launches real broker processes (dist/main.js, built by `tsc -b`) on 127.0.0.1 for end-to-end tests. */
export const MAIN =
  [new URL('../dist/main.js', import.meta.url), new URL('../../dist/main.js', import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((f) => existsSync(f)) ?? 'dist/main.js (not built: run tsc -b)';
export const TOKEN = 'e2e-token';

export interface BrokerProc {
  readonly id: string;
  readonly url: string;
  readonly peer: string;
  dataDir: string;
  proc: ChildProcess | undefined;
  httpPort: number;
  peerPort: number;
  log: string[];
}

/** A free port chosen by the OS (then released; the broker binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export class Cluster {
  readonly brokers: BrokerProc[] = [];
  readonly #root = mkdtempSync(join(tmpdir(), 'mq-broker-e2e-'));
  readonly env: Record<string, string>;

  constructor(env: Record<string, string> = {}) {
    this.env = env;
  }

  async add(id: string): Promise<BrokerProc> {
    const httpPort = await freePort();
    const peerPort = await freePort();
    const b: BrokerProc = {
      id,
      url: `http://127.0.0.1:${httpPort}`,
      peer: `127.0.0.1:${peerPort}`,
      dataDir: join(this.#root, id),
      proc: undefined,
      httpPort,
      peerPort,
      log: [],
    };
    this.brokers.push(b);
    await this.start(b);
    return b;
  }

  async start(b: BrokerProc): Promise<void> {
    // BROKER_NODE_ARGS: extra node flags for the brokers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
    const nodeArgs = (process.env.BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const proc = spawn(process.execPath, [...nodeArgs, MAIN], {
      env: {
        ...process.env,
        BROKER_ID: b.id,
        HTTP_PORT: String(b.httpPort),
        PEER_PORT: String(b.peerPort),
        DATA_DIR: b.dataDir,
        CLUSTER_TOKEN: TOKEN,
        LOG_LEVEL: 'info',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    b.proc = proc;
    const keep = (chunk: Buffer): void => {
      b.log.push(chunk.toString('utf8'));
      if (b.log.length > 5000) b.log.splice(0, b.log.length - 5000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`broker ${b.id} exited with ${proc.exitCode}:\n${b.log.join('')}`);
      try {
        const res = await request(`${b.url}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
        await res.body.dump();
        if (res.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`broker ${b.id} did not start:\n${b.log.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** kill -9 */
  async kill(b: BrokerProc): Promise<void> {
    const p = b.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    b.proc = undefined;
  }

  async stop(b: BrokerProc): Promise<number | null> {
    const p = b.proc;
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill('SIGTERM');
    const code = await exited;
    b.proc = undefined;
    return code;
  }

  wipe(b: BrokerProc): void {
    rmSync(b.dataDir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await Promise.all(this.brokers.map((b) => this.kill(b)));
    rmSync(this.#root, { recursive: true, force: true });
  }
}

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

export async function call(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
  admin = false,
): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (admin) headers.authorization = `Bearer ${TOKEN}`;
  const res = await request(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
