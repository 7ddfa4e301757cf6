import { Type } from 'typebox';

/** Topic names: what Kafka allows, so names survive URLs and file names. */
export const TopicName = Type.String({ pattern: '^[A-Za-z0-9._-]{1,249}$', description: 'Topic name' });
export const PartitionIndex = Type.Integer({ minimum: 0, maximum: 9999 });
export const BrokerId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Broker id, e.g. "b1"' });
export const ClientId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const Offset = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const Success = Type.Literal('success');

/** The failure body every route may answer with (see errors.ts). */
export const FailureSchema = Type.Object(
  {
    status: Type.Literal('failure'),
    message: Type.String(),
    code: Type.String(),
    leader: Type.Optional(Type.Union([BrokerId, Type.Null()])),
    leaderUrl: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: true },
);
