import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeConfChange,
  decodeConfChangeEntry,
  decodeConfState,
  decodeMessage,
  encodeConfChange,
  encodeConfChangeEntry,
  encodeConfState,
  encodeMessage,
} from '../src/codec.js';
import { CodecError } from '../src/errors.js';
import type { ConfChange, ConfState, Entry, Message } from '../src/types.js';
import { ConfChangeType, EntryType, MessageType } from '../src/types.js';

const uint = fc.maxSafeNat();
const id = fc.string({ maxLength: 12 });
const bytes = fc.uint8Array({ maxLength: 64 });
const conf: fc.Arbitrary<ConfState> = fc.record({
  voters: fc.array(id, { maxLength: 5 }),
  learners: fc.array(id, { maxLength: 3 }),
  votersOutgoing: fc.array(id, { maxLength: 3 }),
});
const entry: fc.Arbitrary<Entry> = fc.record({
  index: uint,
  term: uint,
  type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
  data: bytes,
});
const change: fc.Arbitrary<ConfChange> = fc.record({
  type: fc.constantFrom(ConfChangeType.AddVoter, ConfChangeType.AddLearner, ConfChangeType.RemoveNode),
  node: id,
});
const message: fc.Arbitrary<Message> = fc.record(
  {
    type: fc.constantFrom(...Object.values(MessageType)),
    group: id,
    from: id,
    to: id,
    term: uint,
    logTerm: uint,
    index: uint,
    entries: fc.array(entry, { maxLength: 4 }),
    commit: uint,
    reject: fc.boolean(),
    rejectHint: uint,
    hintTerm: uint,
    snapshot: fc.record({
      meta: fc.record({ index: uint, term: uint, conf }),
      offset: uint,
      data: bytes,
      done: fc.boolean(),
    }),
    chunkOffset: uint,
    context: bytes,
  },
  { requiredKeys: ['type', 'group', 'from', 'to', 'term'] },
);

/** Decoded byte arrays are views; compare them as plain arrays. */
const plain = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? [...x] : x)));

describe('codec', () => {
  it('round-trips every message', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(plain(decodeMessage(encodeMessage(m)))).toEqual(plain(m));
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips conf changes, conf-change entries and configurations', () => {
    fc.assert(
      fc.property(change, conf, fc.boolean(), (c, s, withChange) => {
        expect(decodeConfChange(encodeConfChange(c))).toEqual(c);
        const e = withChange ? { change: c, conf: s } : { conf: s };
        expect(decodeConfChangeEntry(encodeConfChangeEntry(e))).toEqual(e);
        expect(decodeConfState(encodeConfState(s))).toEqual(s);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every truncation of a valid message with CodecError', () => {
    fc.assert(
      fc.property(message, (m) => {
        const buf = encodeMessage(m);
        for (let n = 0; n < buf.length; n++) expect(() => decodeMessage(buf.subarray(0, n))).toThrow(CodecError);
      }),
      { numRuns: 40 },
    );
  });

  it('garbage either decodes to a message or throws CodecError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (buf) => {
        try {
          decodeMessage(buf);
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects trailing bytes, unknown versions and integers beyond 2^53', () => {
    const m: Message = { type: MessageType.Heartbeat, group: 'g', from: 'a', to: 'b', term: 3, commit: 2 };
    const buf = encodeMessage(m);
    expect(() => decodeMessage(new Uint8Array([...buf, 0]))).toThrow(CodecError);
    expect(() => decodeMessage(new Uint8Array([9, ...buf.subarray(1)]))).toThrow(/version/);
    expect(() => encodeMessage({ ...m, term: 2 ** 53 })).toThrow(CodecError);
    expect(() => encodeMessage({ ...m, term: -1 })).toThrow(CodecError);
  });

  it('is compact: a heartbeat takes a few bytes more than its names', () => {
    const m: Message = {
      type: MessageType.Heartbeat,
      group: 'orders/0',
      from: 'b1',
      to: 'b2',
      term: 7,
      commit: 1234,
      index: 99,
    };
    expect(encodeMessage(m).byteLength).toBeLessThan(30);
  });
});
