/**
 * A fresh local cluster for tests and scenarios: one manager (embedded PGlite) and N brokers as real child
 * processes, each with its data and log file in a temp dir, on 127.0.0.1. Brokers can be killed (-9) and
 * restarted on the same ports and data. Modelled on nats.js's test launcher (nst/src/launcher.ts).
 *
 * @example
 * const cluster = await startLocalCluster({ brokers: 3 });
 * try { ... cluster.managerUrl ... } finally { await cluster.stop(); }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface LocalClusterOptions {
  /** Brokers to start. Default 3. */
  readonly brokers?: number;
  /**
   * Fixed ports: the manager on `basePort`, broker i on `basePort + i` (HTTP) and `basePort + 100 + i`
   * (Raft peer link), the PGlite socket on `basePort + 99`. Default: free ports chosen by the OS.
   */
  readonly basePort?: number;
  /** Where data and logs go. Default: a new temp dir, removed by stop() unless keepDir. */
  readonly dir?: string;
  readonly keepDir?: boolean;
  /** Cluster token shared by manager and brokers. Default a fixed test token. */
  readonly clusterToken?: string;
  /** Log level of every process. Default 'info' (logs go to `<dir>/logs/<name>.log`). */
  readonly logLevel?: string;
  /** Extra environment of the manager (e.g. MQ_DEAD_AFTER_MS) and of every broker. */
  readonly managerEnv?: Record<string, string>;
  readonly brokerEnv?: Record<string, string>;
  /** Extra environment of one broker (e.g. its ADVERTISED_PEER), applied after brokerEnv. */
  readonly brokerEnvOf?: (id: string) => Record<string, string>;
  /**
   * A Postgres server (e.g. postgres://postgres@127.0.0.1:5432/postgres): the manager gets a fresh database
   * `mq_client_<random>` on it, dropped by stop(). Default: the manager's embedded PGlite.
   */
  readonly postgresUrl?: string;
  /** How long to wait for everything to come up. Default 60000 ms. */
  readonly startTimeoutMs?: number;
}

export interface BrokerHandle {
  readonly id: string;
  readonly url: string;
  readonly peer: string;
  /** The running process's pid, or undefined while it is down. */
  readonly pid: number | undefined;
}

export interface LocalCluster {
  readonly managerUrl: string;
  readonly clusterToken: string;
  readonly dir: string;
  readonly brokers: readonly BrokerHandle[];
  /** Kills a broker (SIGKILL by default: no goodbye, like a power cut) and waits for it to exit. */
  killBroker(id: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped broker again, same id, ports and data. */
  startBroker(id: string): Promise<void>;
  /** The manager's pid, or undefined while it is down. */
  readonly managerPid: number | undefined;
  /** Kills the manager (SIGKILL by default) and waits for it to exit. */
  killManager(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped manager again, same port and data, and waits until it answers. */
  startManager(): Promise<void>;
  /** The log of a process ('manager' or a broker id). */
  log(name: string): string;
  /** Stops everything (SIGTERM, then SIGKILL after 5 s) and removes the temp dir unless kept. */
  stop(): Promise<void>;
}

const DEFAULT_TOKEN = 'local-cluster-token';

function packageMain(pkg: string): string {
  // Each service package exports dist/index.js; its process entry point sits next to it.
  return join(dirname(fileURLToPath(import.meta.resolve(pkg))), 'main.js');
}

/** A free port chosen by the OS (released again; the child binds it right after). */
export function freePort(): Promise<number> {
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

async function getJson(url: string, token?: string): Promise<unknown> {
  const res = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(2000),
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

async function waitUntil(
  what: string,
  deadline: number,
  check: () => Promise<boolean>,
  onTimeout: () => string,
): Promise<void> {
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`local cluster: ${what} not ready in time\n${onTimeout()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Proc {
  readonly name: string;
  readonly main: string;
  readonly env: Record<string, string>;
  readonly logFile: string;
  child: ChildProcess | undefined;
}

class Cluster implements LocalCluster {
  readonly managerUrl: string;
  readonly clusterToken: string;
  readonly dir: string;
  readonly #procs = new Map<string, Proc>();
  readonly #brokers: { id: string; url: string; peer: string }[] = [];
  readonly #keepDir: boolean;
  dropDatabase: (() => Promise<void>) | undefined;

  constructor(managerUrl: string, token: string, dir: string, keepDir: boolean) {
    this.managerUrl = managerUrl;
    this.clusterToken = token;
    this.dir = dir;
    this.#keepDir = keepDir;
  }

  get brokers(): readonly BrokerHandle[] {
    return this.#brokers.map((b) => ({ ...b, pid: this.#procs.get(b.id)?.child?.pid }));
  }

  add(proc: Proc, broker?: { id: string; url: string; peer: string }): void {
    this.#procs.set(proc.name, proc);
    if (broker) this.#brokers.push(broker);
  }

  spawn(name: string): void {
    const p = this.#procs.get(name);
    if (!p) throw new Error(`no process ${name}`);
    if (p.child && p.child.exitCode === null && p.child.signalCode === null) return;
    const fd = openSync(p.logFile, 'a');
    try {
      p.child = spawn(process.execPath, [p.main], { env: { ...process.env, ...p.env }, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
  }

  alive(name: string): boolean {
    const c = this.#procs.get(name)?.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  async #exit(p: Proc, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = p.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      p.child = undefined;
      return;
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    p.child = undefined;
  }

  async killBroker(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.#procs.get(id);
    if (!p || !this.#brokers.some((b) => b.id === id)) throw new Error(`no broker ${id}`);
    await this.#exit(p, signal, 5000);
  }

  async startBroker(id: string): Promise<void> {
    const b = this.#brokers.find((x) => x.id === id);
    if (!b) throw new Error(`no broker ${id}`);
    this.spawn(id);
    await waitUntil(
      `broker ${id}`,
      Date.now() + 30_000,
      async () => this.alive(id) && (await getJson(`${b.url}/v1/health`, this.clusterToken)) !== undefined,
      () => this.log(id),
    );
  }

  get managerPid(): number | undefined {
    return this.#procs.get('manager')?.child?.pid;
  }

  async killManager(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.#procs.get('manager');
    if (p) await this.#exit(p, signal, 5000);
  }

  async startManager(): Promise<void> {
    this.spawn('manager');
    await waitUntil(
      'manager',
      Date.now() + 60_000,
      async () => this.alive('manager') && (await getJson(`${this.managerUrl}/v1/health`)) !== undefined,
      () => this.log('manager'),
    );
  }

  log(name: string): string {
    const p = this.#procs.get(name);
    if (!p) return '';
    try {
      return readFileSync(p.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    // Brokers first, so the manager does not spend its last moments reacting to their deaths.
    const brokers = [...this.#procs.values()].filter((p) => p.name !== 'manager');
    await Promise.all(brokers.map((p) => this.#exit(p, 'SIGTERM', 5000)));
    const manager = this.#procs.get('manager');
    if (manager) await this.#exit(manager, 'SIGTERM', 5000);
    await this.dropDatabase?.();
    if (!this.#keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Creates a database with a unique name on a Postgres server; `drop` removes it (closing its sessions). */
async function createDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `mq_client_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Starts a manager and `brokers` brokers and waits until the manager sees every broker alive. */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const count = options.brokers ?? 3;
  const token = options.clusterToken ?? DEFAULT_TOKEN;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'myqueue-cluster-'));
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const logLevel = options.logLevel ?? 'info';
  const base = options.basePort;
  const port = async (offset: number) => (base === undefined ? freePort() : base + offset);
  const managerPort = await port(0);
  const managerUrl = `http://127.0.0.1:${managerPort}`;
  const cluster = new Cluster(managerUrl, token, dir, options.keepDir ?? options.dir !== undefined);
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  try {
    const database: Record<string, string> = {};
    if (options.postgresUrl) {
      const { url, drop } = await createDatabase(options.postgresUrl);
      cluster.dropDatabase = drop;
      database.DATABASE_URL = url;
    }
    cluster.add({
      name: 'manager',
      main: packageMain('@myqueue/manager'),
      logFile: join(logs, 'manager.log'),
      child: undefined,
      env: {
        MQ_MANAGER_NODE_ID: 'manager-1',
        MQ_MANAGER_HOST: '127.0.0.1',
        MQ_MANAGER_PORT: String(managerPort),
        MQ_PGLITE_DIR: join(dir, 'manager-pglite'),
        MQ_PGLITE_PORT: String(await port(99)),
        MQ_CLUSTER_TOKEN: token,
        LOG_LEVEL: logLevel,
        ...database,
        ...options.managerEnv,
      },
    });
    // Brokers start alongside the manager: they retry registering until it answers.
    cluster.spawn('manager');
    for (let i = 1; i <= count; i++) {
      const id = `b${i}`;
      const httpPort = await port(i);
      const peerPort = await port(100 + i);
      const broker = { id, url: `http://127.0.0.1:${httpPort}`, peer: `127.0.0.1:${peerPort}` };
      cluster.add(
        {
          name: id,
          main: packageMain('@myqueue/broker'),
          logFile: join(logs, `${id}.log`),
          child: undefined,
          env: {
            BROKER_ID: id,
            HTTP_HOST: '127.0.0.1',
            HTTP_PORT: String(httpPort),
            PEER_HOST: '127.0.0.1',
            PEER_PORT: String(peerPort),
            DATA_DIR: join(dir, id),
            CLUSTER_TOKEN: token,
            MANAGER_URL: managerUrl,
            LOG_LEVEL: logLevel,
            ...options.brokerEnv,
            ...options.brokerEnvOf?.(id),
          },
        },
        broker,
      );
      cluster.spawn(id);
    }
    await waitUntil(
      'manager',
      deadline,
      async () => cluster.alive('manager') && (await getJson(`${managerUrl}/v1/health`)) !== undefined,
      () => cluster.log('manager'),
    );
    for (const b of cluster.brokers)
      await waitUntil(
        `broker ${b.id}`,
        deadline,
        async () => cluster.alive(b.id) && (await getJson(`${b.url}/v1/health`, token)) !== undefined,
        () => cluster.log(b.id),
      );
    await waitUntil(
      'broker registration',
      deadline,
      async () => {
        const md = (await getJson(`${managerUrl}/v1/metadata`)) as { brokers: { state: string }[] };
        return md.brokers.filter((b) => b.state === 'alive').length >= count;
      },
      () => cluster.log('manager'),
    );
    return cluster;
  } catch (e) {
    await cluster.stop().catch(() => undefined);
    throw e;
  }
}
