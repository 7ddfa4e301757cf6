/**
 * Three nats-server processes with JetStream on loopback, each with its own free ports and temp store
 * dir, clustered through routes. Used only as the benchmark's baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@myqueue/local-cluster';

export const NATS_SERVER_CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

export function findNatsServer(): string | undefined {
  const fromEnv = process.env.NATS_SERVER;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return NATS_SERVER_CANDIDATES.find((p) => existsSync(p));
}

interface Node {
  readonly name: string;
  readonly port: number;
  readonly args: string[];
  child: ChildProcess | undefined;
}

export class NatsCluster {
  readonly #binary: string;
  readonly dir: string;
  readonly #nodes: Node[] = [];

  private constructor(binary: string) {
    this.#binary = binary;
    this.dir = mkdtempSync(join(tmpdir(), 'myqueue-bench-nats-'));
  }

  /** Starts `size` servers (names n1..nN) and resolves once each accepts TCP connections. */
  static async start(binary: string, size = 3): Promise<NatsCluster> {
    const c = new NatsCluster(binary);
    try {
      const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
      const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
      for (let i = 0; i < size; i++) {
        const routes = routePorts.filter((_, j) => j !== i).map((p) => `nats://127.0.0.1:${p}`);
        const name = `n${i + 1}`;
        c.#nodes.push({
          name,
          port: clientPorts[i],
          child: undefined,
          args: [
            '-a',
            '127.0.0.1',
            '-p',
            String(clientPorts[i]),
            '-n',
            name,
            '-js',
            '-sd',
            join(c.dir, name),
            '--cluster_name',
            'bench',
            '--cluster',
            `nats://127.0.0.1:${routePorts[i]}`,
            '--routes',
            routes.join(','),
          ],
        });
      }
      for (const n of c.#nodes) c.#spawn(n);
      await Promise.all(c.#nodes.map((n) => waitForPort(n.port, 15_000)));
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  get servers(): string[] {
    return this.#nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  #spawn(n: Node): void {
    n.child = spawn(this.#binary, n.args, { stdio: 'ignore' });
  }

  /** SIGKILLs a server by name and waits for it to exit. */
  async kill(name: string): Promise<void> {
    const n = this.#nodes.find((x) => x.name === name);
    if (!n?.child) throw new Error(`no running nats server ${name}`);
    await exit(n.child, 'SIGKILL');
    n.child = undefined;
  }

  /** Starts a killed server again with the same ports and store. */
  async restart(name: string): Promise<void> {
    const n = this.#nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no nats server ${name}`);
    this.#spawn(n);
    await waitForPort(n.port, 15_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#nodes.map((n) => (n.child ? exit(n.child, 'SIGTERM') : Promise.resolve())));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function exit(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
