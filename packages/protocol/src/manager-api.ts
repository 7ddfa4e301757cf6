/**
 * The manager's HTTP API (docs/manager.md, docs/api.md): routes brokers call (cluster token), metadata and
 * registration routes the client library calls, health/status, admin routes (cluster token), and the
 * logging-queue API that old scripts depend on (snake_case, kept exactly as it was).
 *
 * Auth: routes marked "cluster token" need `authorization: Bearer <cluster token>`. Client routes are open
 * unless the manager is configured with a client token, then they need `authorization: Bearer <client token>`
 * (the cluster token is accepted there too).
 *
 * Any manager answers every route: a read replica serves reads itself and forwards writes to the primary;
 * when it cannot it answers 421 MQ_ERR_NOT_PRIMARY with `primaryUrl` when known.
 */
import { Type, type Static } from 'typebox';
import { BrokerHealth } from './broker-api.js';
import { BrokerId, ClientId, Offset, PartitionIndex, Success, TopicName } from './common.js';

// ---------------------------------------------------------------------------------------------------------
// Shared shapes

export const NodeState = Type.Union([Type.Literal('alive'), Type.Literal('suspect'), Type.Literal('dead')], {
  description: 'alive: heard from recently; suspect: late; dead: not heard from past the dead timeout (not routed to)',
});
export type NodeState = Static<typeof NodeState>;

export const ManagerRole = Type.Union([Type.Literal('primary'), Type.Literal('replica')]);
export type ManagerRole = Static<typeof ManagerRole>;

export const ReplicationFactor = Type.Integer({ minimum: 1, maximum: 5 });

/** A broker as the manager knows it. */
export const BrokerInfo = Type.Object({
  id: BrokerId,
  /** The broker's HTTP API, e.g. http://127.0.0.1:7001 */
  url: Type.String(),
  /** The broker's Raft peer link, host:port */
  peer: Type.String(),
  state: NodeState,
  /** Milliseconds since the manager last heard from the broker. */
  lastSeenAgoMs: Type.Integer(),
  registeredAt: Type.Integer({ description: 'ms since epoch' }),
});
export type BrokerInfo = Static<typeof BrokerInfo>;

/** A manager node (primary or replica) as recorded in the metadata store. */
export const ManagerInfo = Type.Object({
  id: Type.String(),
  url: Type.String(),
  role: ManagerRole,
  state: NodeState,
  lastSeenAgoMs: Type.Integer(),
});
export type ManagerInfo = Static<typeof ManagerInfo>;

export const PartitionMetadata = Type.Object({
  partition: PartitionIndex,
  /** The leader as last reported by the brokers; null while unknown or during an election. */
  leader: Type.Union([BrokerId, Type.Null()]),
  leaderUrl: Type.Union([Type.String(), Type.Null()]),
  /** The Raft term in which `leader` was reported leader (higher wins when reports disagree). */
  leaderTerm: Type.Integer({ minimum: 0 }),
  /** Voting members of the partition's Raft group, the preferred leader first. */
  replicas: Type.Array(BrokerId),
  /** Members being added (Raft learners catching up) during a reassignment. */
  learners: Type.Array(BrokerId),
  /** Replicas on brokers that are not dead. */
  liveReplicas: Type.Array(BrokerId),
  /** The last high watermark a leader reported (messages below it are committed). */
  highWatermark: Offset,
});
export type PartitionMetadata = Static<typeof PartitionMetadata>;

export const TopicMetadata = Type.Object({
  name: TopicName,
  replicationFactor: ReplicationFactor,
  createdAt: Type.Integer({ description: 'ms since epoch' }),
  partitions: Type.Array(PartitionMetadata),
});
export type TopicMetadata = Static<typeof TopicMetadata>;

export const PrimaryRef = Type.Union([Type.Object({ id: Type.String(), url: Type.String() }), Type.Null()]);
export type PrimaryRef = Static<typeof PrimaryRef>;

// ---------------------------------------------------------------------------------------------------------
// Broker -> manager (cluster token)

export const BrokerRegisterRequest = Type.Object(
  { id: BrokerId, url: Type.String({ minLength: 1, maxLength: 2048 }), peer: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);
export type BrokerRegisterRequest = Static<typeof BrokerRegisterRequest>;

export const BrokerRegisterResponse = Type.Object({
  status: Success,
  broker: BrokerInfo,
  /** How often the broker should heartbeat. */
  heartbeatIntervalMs: Type.Integer({ minimum: 1 }),
});
export type BrokerRegisterResponse = Static<typeof BrokerRegisterResponse>;

/**
 * One partition replica as a broker reports it in its heartbeat: the same shape as a partition in the
 * broker's own health answer (broker-api.ts BrokerHealth), so a broker can send what it already has.
 * `role` is leader | follower | candidate | learner ...
 */
export const PartitionReport = BrokerHealth.properties.partitions.items;
export type PartitionReport = Static<typeof PartitionReport>;

export const BrokerHeartbeatRequest = Type.Object(
  {
    id: BrokerId,
    /** Optional: lets a heartbeat re-register a broker the manager forgot (e.g. a wiped database). */
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    peer: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    partitions: Type.Array(PartitionReport, { maxItems: 100_000 }),
  },
  { additionalProperties: false },
);
export type BrokerHeartbeatRequest = Static<typeof BrokerHeartbeatRequest>;

export const BrokerHeartbeatResponse = Type.Object({
  status: Success,
  heartbeatIntervalMs: Type.Integer({ minimum: 1 }),
});
export type BrokerHeartbeatResponse = Static<typeof BrokerHeartbeatResponse>;

// ---------------------------------------------------------------------------------------------------------
// Client library routes (client token if configured)

export const MetadataQuery = Type.Object(
  { topics: Type.Optional(Type.String({ maxLength: 65_536, description: 'Comma-separated topic names; all topics when absent' })) },
  { additionalProperties: false },
);
export type MetadataQuery = Static<typeof MetadataQuery>;

export const MetadataResponse = Type.Object({
  status: Success,
  /** The manager that answered and the current primary. */
  node: Type.String(),
  primary: PrimaryRef,
  managers: Type.Array(ManagerInfo),
  /** Brokers that are not dead (a client routes only to these). */
  brokers: Type.Array(BrokerInfo),
  topics: Type.Array(TopicMetadata),
});
export type MetadataResponse = Static<typeof MetadataResponse>;

export const TopicParams = Type.Object({ topic: TopicName });
export type TopicParams = Static<typeof TopicParams>;

export const TopicResponse = Type.Object({ status: Success, topic: TopicMetadata });
export type TopicResponse = Static<typeof TopicResponse>;

export const CreateTopicRequest = Type.Object(
  {
    name: TopicName,
    /** Default: the manager's `defaultPartitions` (3). */
    partitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** Default: the manager's `defaultReplicationFactor` (3). More than the live brokers -> 503 MQ_ERR_NOT_ENOUGH_BROKERS. */
    replicationFactor: Type.Optional(ReplicationFactor),
  },
  { additionalProperties: false },
);
export type CreateTopicRequest = Static<typeof CreateTopicRequest>;

export const ProducerRegisterRequest = Type.Object(
  {
    topic: TopicName,
    /** Pin the registration to one partition. */
    partition: Type.Optional(PartitionIndex),
    /** Register an existing producer for one more topic instead of creating a new producer. */
    producerId: Type.Optional(ClientId),
    /** Create the topic (manager defaults) when it does not exist. Default true, like the logging-queue API. */
    createTopic: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ProducerRegisterRequest = Static<typeof ProducerRegisterRequest>;

export const ProducerRegisterResponse = Type.Object({ status: Success, producerId: ClientId, topic: TopicMetadata });
export type ProducerRegisterResponse = Static<typeof ProducerRegisterResponse>;

export const ConsumerRegisterRequest = Type.Object(
  {
    topic: TopicName,
    partition: Type.Optional(PartitionIndex),
    /** Register an existing consumer for one more topic. */
    consumerId: Type.Optional(ClientId),
  },
  { additionalProperties: false },
);
export type ConsumerRegisterRequest = Static<typeof ConsumerRegisterRequest>;

export const ConsumerRegisterResponse = Type.Object({ status: Success, consumerId: ClientId, topic: TopicMetadata });
export type ConsumerRegisterResponse = Static<typeof ConsumerRegisterResponse>;

export const ClientKind = Type.Union([Type.Literal('producer'), Type.Literal('consumer')]);
export type ClientKind = Static<typeof ClientKind>;

export const ClientHeartbeatRequest = Type.Object({ kind: ClientKind, id: ClientId }, { additionalProperties: false });
export type ClientHeartbeatRequest = Static<typeof ClientHeartbeatRequest>;

export const ClientHeartbeatResponse = Type.Object({ status: Success, heartbeatIntervalMs: Type.Integer({ minimum: 1 }) });
export type ClientHeartbeatResponse = Static<typeof ClientHeartbeatResponse>;

// ---------------------------------------------------------------------------------------------------------
// Health and status (open)

export const ManagerHealth = Type.Object({
  status: Success,
  node: Type.String(),
  role: ManagerRole,
  primary: PrimaryRef,
  /** 'postgres' (DATABASE_URL) or 'pglite' (embedded). */
  database: Type.String(),
  uptimeMs: Type.Integer(),
});
export type ManagerHealth = Static<typeof ManagerHealth>;

export const ClientInfo = Type.Object({
  kind: ClientKind,
  id: ClientId,
  state: NodeState,
  lastSeenAgoMs: Type.Integer(),
  topics: Type.Array(Type.Object({ topic: TopicName, partition: Type.Union([PartitionIndex, Type.Null()]) })),
});
export type ClientInfo = Static<typeof ClientInfo>;

export const PartitionHealth = Type.Object({
  topic: TopicName,
  partition: PartitionIndex,
  leader: Type.Union([BrokerId, Type.Null()]),
  replicas: Type.Array(BrokerId),
  learners: Type.Array(BrokerId),
  liveReplicas: Type.Array(BrokerId),
  /** ok: every replica alive; under-replicated: some dead but a majority alive; unavailable: no live majority. */
  state: Type.Union([Type.Literal('ok'), Type.Literal('under-replicated'), Type.Literal('unavailable')]),
});
export type PartitionHealth = Static<typeof PartitionHealth>;

export const ClusterStatus = Type.Object({
  status: Success,
  node: Type.String(),
  role: ManagerRole,
  primary: PrimaryRef,
  /** The timeouts in force, so the states below can be read. */
  timeouts: Type.Object({ suspectAfterMs: Type.Integer(), deadAfterMs: Type.Integer(), reassignAfterMs: Type.Integer() }),
  managers: Type.Array(ManagerInfo),
  brokers: Type.Array(BrokerInfo),
  clients: Type.Array(ClientInfo),
  partitions: Type.Array(PartitionHealth),
});
export type ClusterStatus = Static<typeof ClusterStatus>;

// ---------------------------------------------------------------------------------------------------------
// Admin (cluster token)

export const PartitionPathParams = Type.Object({ topic: TopicName, partition: PartitionIndex });
export type PartitionPathParams = Static<typeof PartitionPathParams>;

export const ReassignRequest = Type.Object(
  { replicas: Type.Array(BrokerId, { minItems: 1, maxItems: 5, uniqueItems: true }) },
  { additionalProperties: false },
);
export type ReassignRequest = Static<typeof ReassignRequest>;

export const RebalanceLeadersResponse = Type.Object({
  status: Success,
  /** Leadership transfers requested (partitions whose leader was not their preferred replica). */
  transfers: Type.Array(Type.Object({ topic: TopicName, partition: PartitionIndex, from: BrokerId, to: BrokerId })),
});
export type RebalanceLeadersResponse = Static<typeof RebalanceLeadersResponse>;

// ---------------------------------------------------------------------------------------------------------
// The logging-queue API (client token if configured). A hard contract: field names, defaults and success
// bodies are exactly what old scripts expect. GET routes accept their parameters in the query string and/or a
// JSON body; `topic_name` is accepted wherever `topic` is; unknown fields are ignored; failures are
// `{"status":"failure","message":...,"code":...}` with a 4xx (5xx only when a broker or the database is down).

const LegacyTopic = Type.Optional(TopicName);
const LegacyPartition = Type.Optional(PartitionIndex);

export const LegacyCreateTopicRequest = Type.Object({
  topic_name: LegacyTopic,
  name: LegacyTopic,
  topic: LegacyTopic,
  /** Default 1 for this API. */
  partitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  replication_factor: Type.Optional(ReplicationFactor),
});
export type LegacyCreateTopicRequest = Static<typeof LegacyCreateTopicRequest>;

export const LegacyMessageResponse = Type.Object({ status: Success, message: Type.String() });
export type LegacyMessageResponse = Static<typeof LegacyMessageResponse>;

export const LegacyTopicsResponse = Type.Object({ status: Success, topics: Type.Array(TopicName) });
export type LegacyTopicsResponse = Static<typeof LegacyTopicsResponse>;

export const LegacyRegisterRequest = Type.Object({ topic: LegacyTopic, topic_name: LegacyTopic, partition: LegacyPartition });
export type LegacyRegisterRequest = Static<typeof LegacyRegisterRequest>;

export const LegacyProducerRegisterResponse = Type.Object({ status: Success, producer_id: ClientId });
export const LegacyConsumerRegisterResponse = Type.Object({ status: Success, consumer_id: ClientId });

export const LegacyProduceRequest = Type.Object({
  topic: LegacyTopic,
  topic_name: LegacyTopic,
  producer_id: Type.Optional(ClientId),
  message: Type.Optional(Type.String()),
  partition: LegacyPartition,
});
export type LegacyProduceRequest = Static<typeof LegacyProduceRequest>;

export const LegacySuccessResponse = Type.Object({ status: Success });

/** Parameters of GET /consumer/consume and GET /size (query string and/or JSON body). */
export const LegacyConsumerQuery = Type.Object({
  topic: LegacyTopic,
  topic_name: LegacyTopic,
  consumer_id: Type.Optional(ClientId),
  partition: LegacyPartition,
});
export type LegacyConsumerQuery = Static<typeof LegacyConsumerQuery>;

export const LegacySizeResponse = Type.Object({ status: Success, size: Type.Integer({ minimum: 0 }) });

// ---------------------------------------------------------------------------------------------------------

const enc = encodeURIComponent;
/** Route paths of the manager API; fastify registers the `:param` forms, callers use the functions. */
export const managerRoutes = {
  brokerRegister: () => '/v1/brokers/register',
  brokerHeartbeat: () => '/v1/brokers/heartbeat',
  metadata: () => '/v1/metadata',
  topics: () => '/v1/topics',
  /** GET: one topic's metadata; DELETE (cluster token): delete the topic and its replicas. */
  topic: (t: string) => `/v1/topics/${enc(t)}`,
  producerRegister: () => '/v1/producers/register',
  consumerRegister: () => '/v1/consumers/register',
  clientHeartbeat: () => '/v1/clients/heartbeat',
  health: () => '/v1/health',
  status: () => '/v1/status',
  reassign: (t: string, p: number) => `/v1/admin/partitions/${enc(t)}/${p}/reassign`,
  rebalanceLeaders: () => '/v1/admin/rebalance-leaders',
  metrics: () => '/metrics',
} as const;

/** The logging-queue API's paths (unversioned, as old scripts call them). */
export const loggingQueueRoutes = {
  topics: '/topics',
  producerRegister: '/producer/register',
  consumerRegister: '/consumer/register',
  produce: '/producer/produce',
  consume: '/consumer/consume',
  size: '/size',
} as const;

/** Header a replica sets on a write it forwards to the primary (a forwarded request is never forwarded again). */
export const FORWARDED_HEADER = 'x-myqueue-forwarded-by';
