import type { ElectionMode, ManagerOptions } from './options.js';

/** Environment variables the manager reads (main.ts only), with the option each sets. */
export const ENV_VARS = {
  MQ_MANAGER_NODE_ID: 'nodeId',
  MQ_MANAGER_HOST: 'host',
  MQ_MANAGER_PORT: 'port',
  MQ_MANAGER_URL: 'advertisedUrl',
  DATABASE_URL: 'databaseUrl',
  MQ_PGLITE_DIR: 'pgliteDataDir',
  MQ_PGLITE_PORT: 'pglitePort',
  MQ_CLUSTER_TOKEN: 'clusterToken',
  MQ_CLIENT_TOKEN: 'clientToken',
  MQ_MANAGER_ELECTION: 'election',
  MQ_MANAGER_ELECTION_INTERVAL_MS: 'electionIntervalMs',
  MQ_MANAGER_LEASE_TTL_MS: 'leaseTtlMs',
  MQ_HEARTBEAT_INTERVAL_MS: 'heartbeatIntervalMs',
  MQ_SUSPECT_AFTER_MS: 'suspectAfterMs',
  MQ_DEAD_AFTER_MS: 'deadAfterMs',
  MQ_REASSIGN_AFTER_MS: 'reassignAfterMs',
  MQ_HEALTH_CHECK_INTERVAL_MS: 'healthCheckIntervalMs',
  MQ_DEFAULT_PARTITIONS: 'defaultPartitions',
  MQ_DEFAULT_REPLICATION_FACTOR: 'defaultReplicationFactor',
  MQ_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  MQ_REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  MQ_CACHE_TTL_MS: 'cacheTtlMs',
  LOG_LEVEL: 'logLevel',
} as const satisfies Record<string, keyof ManagerOptions>;

const NUMERIC = new Set<keyof ManagerOptions>([
  'port',
  'pglitePort',
  'electionIntervalMs',
  'leaseTtlMs',
  'heartbeatIntervalMs',
  'suspectAfterMs',
  'deadAfterMs',
  'reassignAfterMs',
  'healthCheckIntervalMs',
  'defaultPartitions',
  'defaultReplicationFactor',
  'bodyLimitBytes',
  'requestTimeoutMs',
  'cacheTtlMs',
]);

/** Manager options from environment variables; throws a message naming the bad variable. Empty means unset. */
export function optionsFromEnv(env: Record<string, string | undefined>): ManagerOptions {
  const out: Record<string, string | number> = {};
  for (const [name, key] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (NUMERIC.has(key)) {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
      out[key] = n;
    } else {
      out[key] = raw;
    }
  }
  const election = out.election as ElectionMode | undefined;
  if (election !== undefined && !['auto', 'advisory-lock', 'lease'].includes(election)) throw new Error(`MQ_MANAGER_ELECTION must be auto, advisory-lock or lease`);
  return out;
}
