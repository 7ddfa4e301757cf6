import { Type, type Static } from 'typebox';
import { Offset } from './common.js';

/**
 * A record as a producer sends it. `value` is the message text (UTF-8); applications with binary payloads
 * encode them (base64) themselves. `key` picks the partition when the producer names none.
 */
export const ProducerRecord = Type.Object(
  {
    key: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
    value: Type.String(),
    headers: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }))),
  },
  { additionalProperties: false },
);
export type ProducerRecord = Static<typeof ProducerRecord>;

/** A record as stored and fetched: its offset in the partition and the leader's append time (ms since epoch). */
export const StoredRecord = Type.Object({
  offset: Offset,
  timestamp: Type.Integer(),
  key: Type.Union([Type.String(), Type.Null()]),
  value: Type.String(),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type StoredRecord = Static<typeof StoredRecord>;
