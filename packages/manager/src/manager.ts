import type { Logger } from 'pino';
import { BrokerAdmin } from './broker-admin.js';
import { ClusterView } from './cluster-view.js';
import type { ManagerContext } from './context.js';
import { Controller } from './controller.js';
import { DataPath } from './data-path.js';
import { openDatabase } from './db/database.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './db/embedded.js';
import { migrateToLatest } from './db/migrate.js';
import { AdvisoryLockElection, LeaseElection, connectionsShareSession, readPrimary, type Election } from './election.js';
import { partitionState, stateOf } from './health.js';
import { HttpClient } from './http-client.js';
import { ManagerMetrics } from './metrics.js';
import { withDefaults, type ManagerOptions, type ResolvedManagerOptions } from './options.js';
import { RoundRobin } from './round-robin.js';
import { buildServer } from './server.js';
import { MetadataStore } from './store/metadata-store.js';

export interface ManagerHandle {
  /** This manager's HTTP URL. */
  readonly url: string;
  /** The metadata database (the embedded PGlite's socket when no databaseUrl was given: give it to replicas). */
  readonly databaseUrl: string;
  readonly options: ResolvedManagerOptions;
  isPrimary(): boolean;
  close(): Promise<void>;
}

/**
 * Starts one manager node: opens (or embeds) the metadata database, migrates it, serves HTTP, and runs the
 * election loop and, while primary, the control loop (health, reconciliation, replica moves).
 */
export async function startManager(options: ManagerOptions, log: Logger): Promise<ManagerHandle> {
  const o = withDefaults(options);
  let embedded: EmbeddedDatabase | undefined;
  if (o.databaseUrl === undefined) {
    embedded = await startEmbeddedDatabase({ dataDir: o.pgliteDataDir, host: o.host, port: o.pglitePort });
    log.info({ databaseUrl: embedded.url, dataDir: o.pgliteDataDir ?? 'memory' }, 'embedded PGlite serving on a Postgres wire socket; start replicas with DATABASE_URL set to it');
  }
  const databaseUrl = o.databaseUrl ?? embedded!.url;
  const mdb = openDatabase(databaseUrl, { onError: (err) => log.warn({ err }, 'database connection lost') });
  let app: Awaited<ReturnType<typeof buildServer>> | undefined;
  let http: HttpClient | undefined;
  let election: Election | undefined;
  const loops = new Loops(log);
  // Shutdown order: stop the loops, hand primaryship over at once (a replica takes over without waiting for
  // a lease), stop serving, then close connections and the embedded database.
  const shutdown = async () => {
    const steps = [() => loops.stop(), () => election?.release(), () => app?.close(), () => http?.close(), () => mdb.close(), () => embedded?.close()];
    for (const step of steps) await Promise.resolve(step()).catch((err: unknown) => log.warn({ err }, 'shutdown step failed'));
  };
  try {
    const applied = await migrateToLatest(mdb.db);
    if (applied.length > 0) log.info({ applied }, 'migrations applied');

    let selfUrl = o.advertisedUrl ?? '';
    const electionOptions = { nodeId: o.nodeId, get url() { return selfUrl; }, leaseTtlMs: o.leaseTtlMs, intervalMs: o.electionIntervalMs };
    const mode = o.election === 'auto' ? ((await connectionsShareSession(mdb)) ? 'lease' : 'advisory-lock') : o.election;
    election = mode === 'lease' ? new LeaseElection(mdb, electionOptions) : new AdvisoryLockElection(mdb, electionOptions);

    const store = new MetadataStore(mdb.db, election);
    http = new HttpClient(o.requestTimeoutMs);
    const view = new ClusterView(store, o.cacheTtlMs, o);
    const data = new DataPath(view, http, { timeoutMs: o.requestTimeoutMs, clusterToken: o.clusterToken });
    const controller = new Controller(store, view, new BrokerAdmin(http, data, o.clusterToken), o, log.child({ component: 'controller' }));
    const metrics = new ManagerMetrics();
    let primary: { id: string; url: string } | null = null;
    const ctx: ManagerContext = {
      o,
      get url() {
        return selfUrl;
      },
      log,
      store,
      view,
      controller,
      data,
      election,
      http,
      metrics,
      rotations: { produce: new RoundRobin(), consume: new RoundRobin() },
      database: o.databaseUrl === undefined || mode === 'lease' ? 'pglite' : 'postgres',
      startedAt: Date.now(),
      primary: () => primary,
    };
    app = await buildServer(ctx);
    await app.listen({ host: o.host, port: o.port });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : o.port;
    selfUrl = o.advertisedUrl ?? `http://${o.host}:${port}`;

    const elected = election;
    const electionPass = async () => {
      const was = elected.isPrimary;
      const is = await elected.tick();
      if (is && !was) {
        controller.becamePrimary(Date.now());
        view.invalidate();
        log.info({ mode, epoch: elected.epoch }, 'became the primary');
      } else if (!is && was) {
        log.warn({ mode }, 'no longer the primary');
      }
      metrics.isPrimary.set(is ? 1 : 0);
      const rec = await readPrimary(mdb.db).catch(() => undefined);
      if (rec !== undefined) primary = rec && { id: rec.holder, url: rec.url };
      await store.touchManager(o.nodeId, selfUrl, is ? 'primary' : 'replica', Date.now()).catch(() => undefined);
    };
    await electionPass();
    loops.every(o.electionIntervalMs, electionPass, 'election');
    loops.every(
      o.healthCheckIntervalMs,
      async () => {
        if (elected.isPrimary) await controller.tick();
        await updateHealthGauges(ctx);
      },
      'control',
    );
    log.info({ url: selfUrl, databaseUrl: embedded ? databaseUrl : 'DATABASE_URL', election: mode, primary: elected.isPrimary }, 'manager listening');
    return {
      url: selfUrl,
      databaseUrl,
      options: o,
      isPrimary: () => elected.isPrimary,
      close: shutdown,
    };
  } catch (err) {
    await shutdown();
    throw err;
  }
}

async function updateHealthGauges(ctx: ManagerContext): Promise<void> {
  const now = Date.now();
  const brokers = await ctx.view.brokers();
  const counts = { alive: 0, suspect: 0, dead: 0 };
  for (const b of brokers) counts[stateOf(b.last_seen_ms, now, ctx.o)]++;
  for (const [state, n] of Object.entries(counts)) ctx.metrics.brokers.set({ state }, n);
  const live = await ctx.view.liveBrokerIds(now);
  const parts = { ok: 0, 'under-replicated': 0, unavailable: 0 };
  for (const p of await ctx.store.allPartitions()) {
    parts[partitionState(p.replicas, live)]++;
    ctx.metrics.leaderTerm.set({ topic: p.topic, partition: String(p.partition) }, p.leader_term);
  }
  for (const [state, n] of Object.entries(parts)) ctx.metrics.partitions.set({ state }, n);
}

/** Periodic tasks as setTimeout chains: a slow pass never overlaps the next; stop() waits for the running one. */
class Loops {
  #stopped = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();
  constructor(private readonly log: Logger) {}

  every(ms: number, fn: () => Promise<void>, name: string): void {
    const run = () => {
      if (this.#stopped) return;
      const p = fn()
        .catch((err: unknown) => this.log.warn({ err, loop: name }, 'periodic task failed'))
        .finally(() => {
          this.#running.delete(p);
          if (this.#stopped) return;
          const t = setTimeout(() => {
            this.#timers.delete(t);
            run();
          }, ms);
          this.#timers.add(t);
        });
      this.#running.add(p);
    };
    const t = setTimeout(() => {
      this.#timers.delete(t);
      run();
    }, ms);
    this.#timers.add(t);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    await Promise.all([...this.#running]);
  }
}
