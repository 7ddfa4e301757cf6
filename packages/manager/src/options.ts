/**
 * Options of one manager node. `main.ts` builds them from the environment once; everything below takes the
 * frozen result of withDefaults().
 */

/** How primaries are elected: see docs/manager.md "Primary and replicas". */
export type ElectionMode = 'auto' | 'advisory-lock' | 'lease';

export interface ManagerOptions {
  /** This node's id in logs and the managers table. Default `manager-<port>`. */
  readonly nodeId?: string;
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** HTTP port. Default 5000; 0 picks a free port. */
  readonly port?: number;
  /** The URL other managers and clients use to reach this node. Default `http://<host>:<port>`. */
  readonly advertisedUrl?: string;
  /** Postgres connection string. When absent the manager embeds PGlite (see pglite*). */
  readonly databaseUrl?: string;
  /** Embedded mode: PGlite data directory. Default: in memory (lost on exit). */
  readonly pgliteDataDir?: string;
  /** Embedded mode: port of the Postgres wire socket replicas connect to. Default 0 (a free port, logged). */
  readonly pglitePort?: number;
  /** Token brokers and admins send (`authorization: Bearer ...`). Default: none, which leaves them open. */
  readonly clusterToken?: string;
  /** Token clients send on client routes. Default: none (client routes are open). */
  readonly clientToken?: string;
  /** Primary election: 'advisory-lock' needs real Postgres sessions; 'auto' probes. Default 'auto'. */
  readonly election?: ElectionMode;
  /** How often a replica tries to become primary, and the primary checks it still is. Default 1000 ms. */
  readonly electionIntervalMs?: number;
  /** Lease election: how long a primary's lease lasts without renewal. Default 5000 ms. */
  readonly leaseTtlMs?: number;
  /** Interval brokers and clients are told to heartbeat at. Default 1000 ms. */
  readonly heartbeatIntervalMs?: number;
  /** Not heard from for this long: suspect (still routed to). Default 3000 ms. */
  readonly suspectAfterMs?: number;
  /** Not heard from for this long: dead (not routed to). Default 10000 ms. */
  readonly deadAfterMs?: number;
  /** A broker dead for this long has its replicas moved to live brokers. Default 30000 ms. */
  readonly reassignAfterMs?: number;
  /** How often the primary evaluates health, reconciles replicas and moves them. Default 1000 ms. */
  readonly healthCheckIntervalMs?: number;
  /** Partitions of a topic created through /v1/topics without a count. Default 3. */
  readonly defaultPartitions?: number;
  /** Replication factor when a request names none (capped at 5). Default 3. */
  readonly defaultReplicationFactor?: number;
  /** Largest request body accepted. Default 1 MiB. */
  readonly bodyLimitBytes?: number;
  /** Timeout of one call to a broker or to the primary. Default 10000 ms. */
  readonly requestTimeoutMs?: number;
  /** How long cached registrations and leaders are trusted on a replica before re-reading. Default 1000 ms. */
  readonly cacheTtlMs?: number;
  /** pino level. Default 'info'. */
  readonly logLevel?: string;
}

export type ResolvedManagerOptions = Readonly<
  Required<Omit<ManagerOptions, 'databaseUrl' | 'pgliteDataDir' | 'clusterToken' | 'clientToken' | 'advertisedUrl'>> & {
    advertisedUrl: string | undefined;
    databaseUrl: string | undefined;
    pgliteDataDir: string | undefined;
    clusterToken: string | undefined;
    clientToken: string | undefined;
  }
>;

export const DEFAULT_PORT = 5000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000;
export const DEFAULT_SUSPECT_AFTER_MS = 3000;
export const DEFAULT_DEAD_AFTER_MS = 10_000;
export const DEFAULT_REASSIGN_AFTER_MS = 30_000;
export const DEFAULT_PARTITIONS = 3;
export const DEFAULT_REPLICATION_FACTOR = 3;
export const MAX_REPLICATION_FACTOR = 5;

/** Fills in the documented defaults, checks the timeouts make sense together, and freezes the result. */
export function withDefaults(options: ManagerOptions = {}): ResolvedManagerOptions {
  const port = options.port ?? DEFAULT_PORT;
  const resolved = {
    nodeId: options.nodeId ?? `manager-${port}`,
    host: '127.0.0.1',
    port,
    pglitePort: 0,
    election: 'auto' as ElectionMode,
    electionIntervalMs: 1000,
    leaseTtlMs: 5000,
    heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
    suspectAfterMs: DEFAULT_SUSPECT_AFTER_MS,
    deadAfterMs: DEFAULT_DEAD_AFTER_MS,
    reassignAfterMs: DEFAULT_REASSIGN_AFTER_MS,
    healthCheckIntervalMs: 1000,
    defaultPartitions: DEFAULT_PARTITIONS,
    defaultReplicationFactor: DEFAULT_REPLICATION_FACTOR,
    bodyLimitBytes: 1 << 20,
    requestTimeoutMs: 10_000,
    cacheTtlMs: 1000,
    logLevel: 'info',
    ...stripUndefined(options),
    advertisedUrl: options.advertisedUrl,
    databaseUrl: options.databaseUrl,
    pgliteDataDir: options.pgliteDataDir,
    clusterToken: options.clusterToken,
    clientToken: options.clientToken,
  };
  if (!(resolved.heartbeatIntervalMs < resolved.suspectAfterMs && resolved.suspectAfterMs < resolved.deadAfterMs)) {
    throw new RangeError('need heartbeatIntervalMs < suspectAfterMs < deadAfterMs');
  }
  if (resolved.reassignAfterMs < resolved.deadAfterMs) throw new RangeError('reassignAfterMs must be >= deadAfterMs');
  if (resolved.defaultReplicationFactor < 1 || resolved.defaultReplicationFactor > MAX_REPLICATION_FACTOR) {
    throw new RangeError(`defaultReplicationFactor must be 1..${MAX_REPLICATION_FACTOR}`);
  }
  if (resolved.defaultPartitions < 1) throw new RangeError('defaultPartitions must be >= 1');
  if (resolved.leaseTtlMs < 2 * resolved.electionIntervalMs) throw new RangeError('leaseTtlMs must be >= 2 * electionIntervalMs');
  return Object.freeze(resolved);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
