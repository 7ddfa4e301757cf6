import type { LevelWithSilent } from 'pino';
import type { BrokerOptions } from './options.js';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads and validates the broker's environment (main.ts calls this once):
 *   BROKER_ID (required), HTTP_HOST, HTTP_PORT (required), PEER_HOST, PEER_PORT (required), DATA_DIR
 *   (required), CLUSTER_TOKEN (required), MANAGER_URL, ADVERTISED_URL, ADVERTISED_PEER, LOG_LEVEL,
 *   BODY_LIMIT, RAFT_TICK_MS, RAFT_ELECTION_TICKS, RAFT_HEARTBEAT_TICKS, RAFT_COMPACT_ENTRIES, RAFT_COMPACT_RETAIN,
 *   MANAGER_HEARTBEAT_MS, PRODUCE_SEQUENCE_GATE_MS. MANAGER_URL may list several managers separated by commas.
 * Every problem is reported at once.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv): BrokerOptions {
  const problems: string[] = [];
  const str = (name: string, required: boolean): string | undefined => {
    const v = env[name]?.trim();
    if (!v) {
      if (required) problems.push(`${name} is required`);
      return undefined;
    }
    return v;
  };
  const int = (name: string, required: boolean, min: number, max: number): number | undefined => {
    const v = str(name, required);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer in [${min}, ${max}] (got "${v}")`);
      return undefined;
    }
    return n;
  };
  const id = str('BROKER_ID', true);
  if (id !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(id))
    problems.push('BROKER_ID must match [A-Za-z0-9._-]{1,64}');
  const managerUrl = str('MANAGER_URL', false);
  if (managerUrl !== undefined && !managerUrl.split(',').every((u) => /^https?:\/\//.test(u.trim())))
    problems.push('MANAGER_URL must be an http(s) URL, or several separated by commas');
  const logLevel = str('LOG_LEVEL', false);
  if (logLevel !== undefined && !LEVELS.has(logLevel))
    problems.push(`LOG_LEVEL must be one of ${[...LEVELS].join(', ')}`);
  const options = {
    id: id ?? '',
    httpHost: str('HTTP_HOST', false),
    httpPort: int('HTTP_PORT', true, 0, 65535) ?? 0,
    peerHost: str('PEER_HOST', false),
    peerPort: int('PEER_PORT', true, 0, 65535) ?? 0,
    advertisedUrl: str('ADVERTISED_URL', false),
    advertisedPeer: str('ADVERTISED_PEER', false),
    dataDir: str('DATA_DIR', true) ?? '',
    clusterToken: str('CLUSTER_TOKEN', true) ?? '',
    managerUrl,
    logLevel: logLevel as LevelWithSilent | undefined,
    bodyLimit: int('BODY_LIMIT', false, 1024, 1 << 30),
    tickMs: int('RAFT_TICK_MS', false, 1, 10_000),
    electionTicks: int('RAFT_ELECTION_TICKS', false, 2, 1000),
    heartbeatTicks: int('RAFT_HEARTBEAT_TICKS', false, 1, 999),
    compactEntries: int('RAFT_COMPACT_ENTRIES', false, 10, 1e9),
    compactRetain: int('RAFT_COMPACT_RETAIN', false, 0, 1e9),
    managerHeartbeatMs: int('MANAGER_HEARTBEAT_MS', false, 10, 600_000),
    sequenceGateMs: int('PRODUCE_SEQUENCE_GATE_MS', false, 0, 60_000),
  };
  if (problems.length > 0) throw new ConfigError(`invalid broker configuration: ${problems.join('; ')}`);
  return options;
}
