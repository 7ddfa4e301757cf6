/**
 * The broker-direct HTTP API (docs/api.md): data routes used by the client and the manager, and admin
 * routes used by the manager (cluster token required). Paths are built by the helpers at the bottom so the
 * broker and its callers cannot drift apart.
 */
import { Type, type Static } from 'typebox';
import { BrokerId, ClientId, Offset, PartitionIndex, Success, TopicName } from './common.js';
import { ProducerRecord, StoredRecord } from './records.js';

export const PartitionParams = Type.Object({ topic: TopicName, partition: PartitionIndex });
export type PartitionParams = Static<typeof PartitionParams>;

export const Acks = Type.Union([Type.Literal('all'), Type.Literal('leader')], {
  description: "'all' (default): reply once a majority has the batch durably; 'leader': once the leader has it durably",
});

export const ProduceRequest = Type.Object(
  {
    records: Type.Array(ProducerRecord, { minItems: 1, maxItems: 100_000 }),
    /** Idempotent producers send their id and the sequence number of the batch's first record. */
    producerId: Type.Optional(ClientId),
    sequence: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    acks: Type.Optional(Acks),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 120_000 })),
  },
  { additionalProperties: false },
);
export type ProduceRequest = Static<typeof ProduceRequest>;

export const ProduceResponse = Type.Object({
  status: Success,
  baseOffset: Offset,
  count: Type.Integer({ minimum: 1 }),
  /** True when this batch had been committed before (a retry) and nothing new was stored. */
  duplicate: Type.Boolean(),
});
export type ProduceResponse = Static<typeof ProduceResponse>;

export const FetchQuery = Type.Object(
  {
    offset: Offset,
    maxMessages: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024 })),
    /** Long poll: wait up to this long for records at `offset` when there are none yet. */
    maxWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  },
  { additionalProperties: false },
);
export type FetchQuery = Static<typeof FetchQuery>;

export const FetchResponse = Type.Object({
  status: Success,
  records: Type.Array(StoredRecord),
  /** The offset after the last committed record: records below it are safe to read. */
  highWatermark: Offset,
  /** Where the next fetch should start. */
  nextOffset: Offset,
  /** The first offset still stored. */
  logStartOffset: Offset,
});
export type FetchResponse = Static<typeof FetchResponse>;

export const ConsumeRequest = Type.Object(
  {
    consumerId: ClientId,
    maxMessages: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    maxWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  },
  { additionalProperties: false },
);
export type ConsumeRequest = Static<typeof ConsumeRequest>;

/** Consume-next: the records at the consumer's position, which has advanced past them through Raft. */
export const ConsumeResponse = Type.Object({
  status: Success,
  records: Type.Array(StoredRecord),
  /** The consumer's position after this call. */
  position: Offset,
});
export type ConsumeResponse = Static<typeof ConsumeResponse>;

export const CommitOffsetRequest = Type.Object({ consumerId: ClientId, offset: Offset }, { additionalProperties: false });
export type CommitOffsetRequest = Static<typeof CommitOffsetRequest>;

export const SizeQuery = Type.Object({ consumerId: ClientId }, { additionalProperties: false });
export const SizeResponse = Type.Object({ status: Success, size: Type.Integer({ minimum: 0 }), position: Offset, highWatermark: Offset });
export type SizeResponse = Static<typeof SizeResponse>;

export const ReplicaStatus = Type.Object({
  id: BrokerId,
  role: Type.Union([Type.Literal('voter'), Type.Literal('learner')]),
  /** Leader only: the replica's last known matching log index and how far behind the leader it is. */
  match: Type.Optional(Type.Integer()),
  lag: Type.Optional(Type.Integer()),
});

export const PartitionStatus = Type.Object({
  status: Success,
  topic: TopicName,
  partition: PartitionIndex,
  broker: BrokerId,
  role: Type.String(),
  leader: Type.Union([BrokerId, Type.Null()]),
  term: Type.Integer(),
  commitIndex: Type.Integer(),
  appliedIndex: Type.Integer(),
  highWatermark: Offset,
  logStartOffset: Offset,
  replicas: Type.Array(ReplicaStatus),
});
export type PartitionStatus = Static<typeof PartitionStatus>;

/** A member of a partition's replica set as the manager describes it to brokers. */
export const ReplicaAddress = Type.Object({
  id: BrokerId,
  /** The broker's HTTP API, e.g. http://127.0.0.1:7001 */
  url: Type.String(),
  /** The broker's Raft peer link, host:port */
  peer: Type.String(),
});
export type ReplicaAddress = Static<typeof ReplicaAddress>;

export const CreateReplicaRequest = Type.Object(
  {
    /** Voters of the group when it is created. A replica added later to a live group is created with `join: true`. */
    replicas: Type.Array(ReplicaAddress, { minItems: 1, maxItems: 5 }),
    join: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateReplicaRequest = Static<typeof CreateReplicaRequest>;

export const MembershipRequest = Type.Object(
  {
    action: Type.Union([Type.Literal('add-learner'), Type.Literal('promote'), Type.Literal('remove')]),
    replica: ReplicaAddress,
  },
  { additionalProperties: false },
);
export type MembershipRequest = Static<typeof MembershipRequest>;

export const TransferLeadershipRequest = Type.Object({ to: BrokerId }, { additionalProperties: false });

export const BrokerHealth = Type.Object({
  status: Success,
  broker: BrokerId,
  uptimeMs: Type.Integer(),
  partitions: Type.Array(
    Type.Object({
      topic: TopicName,
      partition: PartitionIndex,
      role: Type.String(),
      leader: Type.Union([BrokerId, Type.Null()]),
      term: Type.Integer(),
      commitIndex: Type.Integer(),
      highWatermark: Offset,
    }),
  ),
});
export type BrokerHealth = Static<typeof BrokerHealth>;

export const OkResponse = Type.Object({ status: Success });

const enc = encodeURIComponent;
/** Route paths of the broker API; fastify registers the `:param` forms, callers use the functions. */
export const brokerRoutes = {
  produce: (t: string, p: number) => `/v1/partitions/${enc(t)}/${p}/produce`,
  fetch: (t: string, p: number) => `/v1/partitions/${enc(t)}/${p}/fetch`,
  consume: (t: string, p: number) => `/v1/partitions/${enc(t)}/${p}/consume`,
  commitOffset: (t: string, p: number) => `/v1/partitions/${enc(t)}/${p}/offsets`,
  size: (t: string, p: number) => `/v1/partitions/${enc(t)}/${p}/size`,
  status: (t: string, p: number) => `/v1/partitions/${enc(t)}/${p}/status`,
  replica: (t: string, p: number) => `/v1/admin/partitions/${enc(t)}/${p}`,
  membership: (t: string, p: number) => `/v1/admin/partitions/${enc(t)}/${p}/membership`,
  transferLeadership: (t: string, p: number) => `/v1/admin/partitions/${enc(t)}/${p}/transfer-leadership`,
  health: () => '/v1/health',
} as const;
