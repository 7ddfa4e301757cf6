/**
 * A fresh local cluster for tests, scenarios and `npm run cluster`: managers (a primary and optional
 * read-only replicas) and N brokers as real child processes, each with its data and log file in a temp dir,
 * on 127.0.0.1. Brokers and managers can be killed (-9) and restarted on the same ports and data. Modelled
 * on nats.js's test launcher (nst/src/launcher.ts).
 *
 * Metadata database: with one manager and no postgresUrl, the manager embeds PGlite. With replicas, PGlite
 * runs in a process of its own (the manager package's pglite-main.js) behind a Postgres wire socket, so
 * the database outlives a killed primary; with postgresUrl every manager uses a fresh database on it.
 *
 * @example
 * const cluster = await startLocalCluster({ brokers: 3, managers: 2 });
 * try { ... cluster.managerUrl ... await cluster.killManager('manager') ... } finally { await cluster.stop(); }
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
  /** Managers to start: the first becomes the primary, the others are read-only replicas. Default 1. */
  readonly managers?: number;
  /**
   * Fixed ports: the manager on `basePort`, broker i on `basePort + i` (HTTP) and `basePort + 100 + i`
   * (Raft peer link), the PGlite socket on `basePort + 99`, manager replica i (1-based) on `basePort + 50 + i`.
   * Default: free ports chosen by the OS.
   */
  readonly basePort?: number;
  /** Explicit ports, each overriding basePort's layout: managers (primary first), brokers, peer links, PGlite. */
  readonly ports?: {
    readonly managers?: readonly number[];
    readonly brokers?: readonly number[];
    readonly peers?: readonly number[];
    readonly pglite?: number;
  };
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
   * A Postgres server (e.g. postgres://postgres@127.0.0.1:5432/postgres): the managers get a fresh database
   * `<databasePrefix>_<random>` on it, dropped by stop(). Default: the manager's embedded PGlite.
   */
  readonly postgresUrl?: string;
  /** A database to use as it is (not created, not dropped), e.g. the user's DATABASE_URL. Wins over postgresUrl. */
  readonly databaseUrl?: string;
  /** Prefix of that database's name (letters, digits, underscores). Default 'mq_client'. */
  readonly databasePrefix?: string;
  /** How long to wait for everything to come up. Default 60000 ms. */
  readonly startTimeoutMs?: number;
  /** Keep PGlite's data in `<dir>/pglite` (default) or in memory ('memory': faster, lost on stop). */
  readonly pgliteData?: 'dir' | 'memory';
}

export interface ManagerProcess {
  /** Process name for log()/killManager(): 'manager' for the first, then 'manager-2', 'manager-3'... */
  readonly name: string;
  /** Node id (MQ_MANAGER_NODE_ID): 'manager-1', 'manager-2'... */
  readonly id: string;
  readonly url: string;
  readonly pid: number | undefined;
}

export interface BrokerHandle {
  readonly id: string;
  readonly url: string;
  readonly peer: string;
  /** The running process's pid, or undefined while it is down. */
  readonly pid: number | undefined;
}

export interface LocalCluster {
  /** The first manager's URL (the primary at start). */
  readonly managerUrl: string;
  /** Every manager's URL, the first one first. */
  readonly managerUrls: readonly string[];
  readonly managers: readonly ManagerProcess[];
  /** The metadata database every manager uses (DATABASE_URL), or undefined when the one manager embeds it. */
  readonly databaseUrl: string | undefined;
  readonly clusterToken: string;
  readonly dir: string;
  readonly brokers: readonly BrokerHandle[];
  /** Kills a manager (SIGKILL by default) and waits for it to exit. Default: the first ('manager'). */
  killManager(name?: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped manager again (same id, port and database) and waits until it answers. */
  startManager(name?: string): Promise<void>;
  /** Kills a broker (SIGKILL by default: no goodbye, like a power cut) and waits for it to exit. */
  killBroker(id: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped broker again, same id, ports and data. */
  startBroker(id: string): Promise<void>;
  /** The log of a process ('manager', 'manager-2', 'pglite' or a broker id). */
  log(name: string): string;
  /** Stops everything (SIGTERM, then SIGKILL after 5 s) and removes the temp dir unless kept. */
  stop(): Promise<void>;
}

const DEFAULT_TOKEN = 'local-cluster-token';

function packageMain(pkg: string, file = 'main.js'): string {
  // Each service package exports dist/index.js; its process entry points sit next to it.
  return join(dirname(fileURLToPath(import.meta.resolve(pkg))), file);
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
  readonly clusterToken: string;
  readonly dir: string;
  databaseUrl: string | undefined;
  readonly #procs = new Map<string, Proc>();
  readonly #brokers: { id: string; url: string; peer: string }[] = [];
  readonly #managers: { name: string; id: string; url: string }[] = [];
  readonly #keepDir: boolean;
  dropDatabase: (() => Promise<void>) | undefined;

  constructor(token: string, dir: string, keepDir: boolean) {
    this.clusterToken = token;
    this.dir = dir;
    this.#keepDir = keepDir;
  }

  get managerUrl(): string {
    return this.#managers[0]?.url ?? '';
  }

  get managerUrls(): readonly string[] {
    return this.#managers.map((m) => m.url);
  }

  get managers(): readonly ManagerProcess[] {
    return this.#managers.map((m) => ({ ...m, pid: this.#procs.get(m.name)?.child?.pid }));
  }

  get brokers(): readonly BrokerHandle[] {
    return this.#brokers.map((b) => ({ ...b, pid: this.#procs.get(b.id)?.child?.pid }));
  }

  add(proc: Proc, broker?: { id: string; url: string; peer: string }): void {
    this.#procs.set(proc.name, proc);
    if (broker) this.#brokers.push(broker);
  }

  addManager(proc: Proc, manager: { name: string; id: string; url: string }): void {
    this.#procs.set(proc.name, proc);
    this.#managers.push(manager);
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

  async killManager(name = 'manager', signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.#procs.get(name);
    if (!p || !this.#managers.some((m) => m.name === name)) throw new Error(`no manager ${name}`);
    await this.#exit(p, signal, 5000);
  }

  async startManager(name = 'manager'): Promise<void> {
    const m = this.#managers.find((x) => x.name === name);
    if (!m) throw new Error(`no manager ${name}`);
    this.spawn(name);
    await this.waitForManager(name, Date.now() + 30_000);
  }

  /** Waits until the manager `name` answers /v1/health (and, with `role`, reports that role). */
  async waitForManager(name: string, deadline: number, role?: 'primary' | 'replica'): Promise<void> {
    const m = this.#managers.find((x) => x.name === name)!;
    await waitUntil(
      `manager ${name}`,
      deadline,
      async () => {
        if (!this.alive(name)) return false;
        const h = (await getJson(`${m.url}/v1/health`)) as { role?: string };
        return role === undefined || h.role === role;
      },
      () => this.log(name),
    );
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
    // Brokers first, so the managers do not spend their last moments reacting to their deaths; replicas
    // before the primary (no takeover on the way out); the database last.
    const managers = new Set(this.#managers.map((m) => m.name));
    const brokers = [...this.#procs.values()].filter((p) => !managers.has(p.name) && p.name !== 'pglite');
    await Promise.all(brokers.map((p) => this.#exit(p, 'SIGTERM', 5000)));
    for (const m of [...this.#managers].reverse()) {
      const p = this.#procs.get(m.name);
      if (p) await this.#exit(p, 'SIGTERM', 5000);
    }
    const pglite = this.#procs.get('pglite');
    if (pglite) await this.#exit(pglite, 'SIGTERM', 5000);
    await this.dropDatabase?.();
    if (!this.#keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Creates a database with a unique name on a Postgres server; `drop` removes it (closing its sessions). */
async function createDatabase(serverUrl: string, prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new RangeError(`bad database prefix '${prefix}'`);
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
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

/**
 * Starts the managers and `brokers` brokers and waits until the first manager is the primary, every
 * replica answers, and the primary sees every broker alive.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const count = options.brokers ?? 3;
  const managerCount = options.managers ?? 1;
  if (managerCount < 1) throw new RangeError('managers must be >= 1');
  const token = options.clusterToken ?? DEFAULT_TOKEN;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'myqueue-cluster-'));
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const logLevel = options.logLevel ?? 'info';
  const base = options.basePort;
  const port = async (explicit: number | undefined, offset: number) =>
    explicit ?? (base === undefined ? freePort() : base + offset);
  const cluster = new Cluster(token, dir, options.keepDir ?? options.dir !== undefined);
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  const pgliteDir = options.pgliteData === 'memory' ? '' : join(dir, 'pglite');
  try {
    const database: Record<string, string> = {};
    if (options.databaseUrl) {
      database.DATABASE_URL = options.databaseUrl;
    } else if (options.postgresUrl) {
      const { url, drop } = await createDatabase(options.postgresUrl, options.databasePrefix ?? 'mq_client');
      cluster.dropDatabase = drop;
      database.DATABASE_URL = url;
    } else if (managerCount > 1) {
      // Replicas need a database that outlives the primary: PGlite in a process of its own.
      const pglitePort = await port(options.ports?.pglite, 99);
      cluster.add({
        name: 'pglite',
        main: packageMain('@myqueue/manager', 'pglite-main.js'),
        logFile: join(logs, 'pglite.log'),
        child: undefined,
        env: { MQ_PGLITE_DIR: pgliteDir, MQ_PGLITE_HOST: '127.0.0.1', MQ_PGLITE_PORT: String(pglitePort) },
      });
      cluster.spawn('pglite');
      await waitUntil(
        'pglite',
        deadline,
        () => Promise.resolve(cluster.alive('pglite') && cluster.log('pglite').includes('pglite ready')),
        () => cluster.log('pglite'),
      );
      database.DATABASE_URL = `postgres://postgres@127.0.0.1:${pglitePort}/postgres`;
    }
    cluster.databaseUrl = database.DATABASE_URL;
    for (let i = 1; i <= managerCount; i++) {
      const name = i === 1 ? 'manager' : `manager-${i}`;
      const httpPort = await port(options.ports?.managers?.[i - 1], i === 1 ? 0 : 50 + i - 1);
      const id = `manager-${i}`;
      const embedded: Record<string, string> = database.DATABASE_URL
        ? {}
        : { MQ_PGLITE_DIR: pgliteDir, MQ_PGLITE_PORT: String(await port(options.ports?.pglite, 99)) };
      cluster.addManager(
        {
          name,
          main: packageMain('@myqueue/manager'),
          logFile: join(logs, `${name}.log`),
          child: undefined,
          env: {
            MQ_MANAGER_NODE_ID: id,
            MQ_MANAGER_HOST: '127.0.0.1',
            MQ_MANAGER_PORT: String(httpPort),
            MQ_CLUSTER_TOKEN: token,
            LOG_LEVEL: logLevel,
            ...embedded,
            ...database,
            ...options.managerEnv,
          },
        },
        { name, id, url: `http://127.0.0.1:${httpPort}` },
      );
    }
    // The first manager starts alone so that it becomes the primary; brokers start alongside it (they retry
    // registering until a manager answers) and list every manager, so they follow a takeover.
    cluster.spawn('manager');
    for (let i = 1; i <= count; i++) {
      const id = `b${i}`;
      const httpPort = await port(options.ports?.brokers?.[i - 1], i);
      const peerPort = await port(options.ports?.peers?.[i - 1], 100 + i);
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
            MANAGER_URL: cluster.managerUrls.join(','),
            LOG_LEVEL: logLevel,
            ...heartbeatEnv(options.managerEnv),
            ...options.brokerEnv,
            ...options.brokerEnvOf?.(id),
          },
        },
        broker,
      );
      cluster.spawn(id);
    }
    await cluster.waitForManager('manager', deadline, managerCount > 1 ? 'primary' : undefined);
    for (const m of cluster.managers.slice(1)) cluster.spawn(m.name);
    for (const m of cluster.managers.slice(1)) await cluster.waitForManager(m.name, deadline);
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
        const md = (await getJson(`${cluster.managerUrl}/v1/metadata`)) as { brokers: { state: string }[] };
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

/** Brokers heartbeat at the interval the managers expect (MQ_HEARTBEAT_INTERVAL_MS, default 1000 ms). */
function heartbeatEnv(managerEnv: Record<string, string> | undefined): Record<string, string> {
  return { MANAGER_HEARTBEAT_MS: managerEnv?.MQ_HEARTBEAT_INTERVAL_MS ?? '1000' };
}
