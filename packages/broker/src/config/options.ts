import type { LevelWithSilent } from 'pino';
import { ConfigError } from './env.js';

/**
 * Everything a broker needs to run. main.ts builds it from the environment (see config/env.ts); tests
 * build it directly. Optional fields default as documented (DEFAULT_BROKER_OPTIONS).
 */
export interface BrokerOptions {
  /** Broker id, unique in the cluster, e.g. "b1" (BROKER_ID). */
  readonly id: string;
  /** HTTP API listen address (HTTP_HOST, HTTP_PORT). Default 127.0.0.1; port 0 picks a free one. */
  readonly httpHost?: string;
  readonly httpPort: number;
  /** Raft peer link listen address (PEER_HOST, PEER_PORT). Default host 127.0.0.1. */
  readonly peerHost?: string;
  readonly peerPort: number;
  /** URL other parties use to reach the HTTP API (ADVERTISED_URL). Default http://httpHost:actualPort. */
  readonly advertisedUrl?: string;
  /** host:port other brokers dial for Raft (ADVERTISED_PEER). Default peerHost:actualPort. */
  readonly advertisedPeer?: string;
  /** Directory of the broker's SQLite database (DATA_DIR). */
  readonly dataDir: string;
  /** Shared secret: admin routes require `authorization: Bearer <token>`; peer links prove it (CLUSTER_TOKEN). */
  readonly clusterToken: string;
  /** Manager to register with and heartbeat (MANAGER_URL; several comma-separated: tried in turn). Default none. */
  readonly managerUrl?: string | undefined;
  /** pino level (LOG_LEVEL). Default 'info'. */
  readonly logLevel?: LevelWithSilent;
  /** Largest HTTP request body accepted, bytes (BODY_LIMIT). Default 16 MiB. */
  readonly bodyLimit?: number;
  /** Default time a produce waits for its commit, ms (a request's timeoutMs overrides it). Default 10 000. */
  readonly produceTimeoutMs?: number;
  /**
   * Longest time an idempotent batch that arrived ahead of its predecessor waits for it before being
   * proposed anyway, ms (PRODUCE_SEQUENCE_GATE_MS; never more than half the request's timeoutMs; 0 turns
   * the wait off). Default 500.
   */
  readonly sequenceGateMs?: number;
  /** Raft tick, ms (RAFT_TICK_MS). Default 50: heartbeats every 2 ticks, elections after 10-20 ticks. */
  readonly tickMs?: number;
  /** Ticks without a leader before an election (RAFT_ELECTION_TICKS). Default 10. */
  readonly electionTicks?: number;
  /**
   * Ticks between a leader's heartbeats (RAFT_HEARTBEAT_TICKS), fewer than electionTicks. Default 2
   * (100 ms): every group heartbeats, idle or not, so this sets a broker's floor of peer messages.
   */
  readonly heartbeatTicks?: number;
  /** Compact a partition's Raft log every this many entries (RAFT_COMPACT_ENTRIES). Default 10 000. */
  readonly compactEntries?: number;
  /** Entries kept after compaction (RAFT_COMPACT_RETAIN). Default 1 000. */
  readonly compactRetain?: number;
  /** Interval of heartbeats to the manager, ms (MANAGER_HEARTBEAT_MS). Default 2 000. */
  readonly managerHeartbeatMs?: number;
}

export const DEFAULT_BROKER_OPTIONS = {
  httpHost: '127.0.0.1',
  peerHost: '127.0.0.1',
  logLevel: 'info',
  bodyLimit: 16 * 1024 * 1024,
  produceTimeoutMs: 10_000,
  sequenceGateMs: 500,
  tickMs: 50,
  electionTicks: 10,
  heartbeatTicks: 2,
  compactEntries: 10_000,
  compactRetain: 1_000,
  managerHeartbeatMs: 2_000,
} as const;

export type ResolvedBrokerOptions = Readonly<
  Required<Omit<BrokerOptions, 'advertisedUrl' | 'advertisedPeer' | 'managerUrl'>> &
    Pick<BrokerOptions, 'advertisedUrl' | 'advertisedPeer' | 'managerUrl'>
>;

/** Fills in the defaults and freezes the result. */
export function withDefaults(options: BrokerOptions): ResolvedBrokerOptions {
  const o = { ...DEFAULT_BROKER_OPTIONS, ...stripUndefined(options) };
  // The default heartbeat yields to a short election timeout; an explicit one must fit under it.
  const heartbeatTicks = options.heartbeatTicks ?? Math.max(1, Math.min(o.heartbeatTicks, o.electionTicks - 1));
  if (heartbeatTicks >= o.electionTicks)
    throw new ConfigError(
      `invalid broker configuration: RAFT_HEARTBEAT_TICKS (${heartbeatTicks}) must be below RAFT_ELECTION_TICKS (${o.electionTicks})`,
    );
  return Object.freeze({ ...o, heartbeatTicks });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
