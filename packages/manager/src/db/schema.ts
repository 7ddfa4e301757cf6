/** Kysely table types of the manager's metadata (see migrations/ for the DDL and docs/manager.md). */
import type { ColumnType, Generated } from 'kysely';

/** bigint columns come back as numbers (ids and ms timestamps stay below 2^53; see database.ts). */
type Int8 = number;

export interface ManagersTable {
  id: string;
  url: string;
  role: string;
  last_seen_ms: Int8;
  started_at_ms: Int8;
}

/** The current primary. One row (id = 1); `epoch` grows at every takeover. */
export interface PrimaryTable {
  id: number;
  holder: string;
  url: string;
  epoch: Int8;
  /** Lease election only: the holder must renew before this (database clock). */
  lease_expires_at: ColumnType<Date, Date | string, Date | string>;
}

export interface BrokersTable {
  id: string;
  url: string;
  peer: string;
  registered_at_ms: Int8;
  last_seen_ms: Int8;
}

export interface TopicsTable {
  name: string;
  replication_factor: number;
  created_at_ms: Int8;
}

export interface PartitionsTable {
  topic: string;
  partition: number;
  /** Voters, the preferred leader first. */
  replicas: string[];
  /** Replicas being added (Raft learners) during a move. */
  learners: string[];
  leader: string | null;
  leader_term: Int8;
  high_watermark: Int8;
}

export interface ProducersTable {
  id: Generated<Int8>;
  created_at_ms: Int8;
  last_seen_ms: Int8;
}

export type ConsumersTable = ProducersTable;

export interface RegistrationsTable {
  client_id: Int8;
  topic: string;
  /** Null: every partition of the topic (round-robin); else pinned to this one. */
  partition: number | null;
}

export interface Database {
  managers: ManagersTable;
  primary_lease: PrimaryTable;
  brokers: BrokersTable;
  topics: TopicsTable;
  partitions: PartitionsTable;
  producers: ProducersTable;
  consumers: ConsumersTable;
  producer_topics: RegistrationsTable;
  consumer_topics: RegistrationsTable;
}
