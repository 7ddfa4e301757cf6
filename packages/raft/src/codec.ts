import { CodecError } from './errors.js';
import type { ConfChange, ConfChangeEntry, ConfState, Entry, Message, SnapshotChunk, SnapshotMeta } from './types.js';
import { ConfChangeType, EntryType, MessageType } from './types.js';

/**
 * Compact binary encoding of Raft messages and membership payloads, so a transport can frame them.
 * Layout: a version byte, then fields in a fixed order; integers as LEB128 varints (safe up to 2^53),
 * strings as UTF-8 and byte arrays each prefixed by their length; optional message fields are announced
 * by a presence bitmask. Decoders validate everything and throw CodecError; decoded byte arrays are views
 * into the input buffer (no copy), so keep the buffer alive as long as you keep the decoded value.
 */

const VERSION = 1;

const MESSAGE_TYPES: readonly MessageType[] = [
  MessageType.App,
  MessageType.AppResp,
  MessageType.Vote,
  MessageType.VoteResp,
  MessageType.PreVote,
  MessageType.PreVoteResp,
  MessageType.Heartbeat,
  MessageType.HeartbeatResp,
  MessageType.Snap,
  MessageType.SnapResp,
  MessageType.TimeoutNow,
];
const ENTRY_TYPES = new Set<number>([EntryType.Normal, EntryType.ConfChange]);
const CONF_CHANGE_TYPES = new Set<number>([
  ConfChangeType.AddVoter,
  ConfChangeType.AddLearner,
  ConfChangeType.RemoveNode,
]);
const MESSAGE_TYPE_CODE = new Map(MESSAGE_TYPES.map((t, i) => [t, i]));

const Field = {
  LogTerm: 1 << 0,
  Index: 1 << 1,
  Entries: 1 << 2,
  Commit: 1 << 3,
  Reject: 1 << 4,
  RejectHint: 1 << 5,
  HintTerm: 1 << 6,
  Snapshot: 1 << 7,
  ChunkOffset: 1 << 8,
  Context: 1 << 9,
} as const;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

class Writer {
  #buf = new Uint8Array(256);
  #pos = 0;

  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  u8(v: number): void {
    this.#reserve(1);
    this.#buf[this.#pos++] = v;
  }

  uint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new CodecError(`not a non-negative safe integer: ${v}`);
    this.#reserve(8);
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#pos++] = v;
  }

  bytes(b: Uint8Array): void {
    this.uint(b.byteLength);
    this.#reserve(b.byteLength);
    this.#buf.set(b, this.#pos);
    this.#pos += b.byteLength;
  }

  str(s: string): void {
    this.bytes(utf8.encode(s));
  }

  strings(list: readonly string[]): void {
    this.uint(list.length);
    for (const s of list) this.str(s);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}

class Reader {
  readonly #buf: Uint8Array;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  u8(): number {
    if (this.#pos >= this.#buf.length) throw new CodecError('truncated input');
    return this.#buf[this.#pos++];
  }

  uint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new CodecError('integer out of range');
        return result;
      }
      scale *= 0x80;
    }
    throw new CodecError('varint too long');
  }

  bytes(): Uint8Array {
    const n = this.uint();
    if (this.#pos + n > this.#buf.length) throw new CodecError('truncated bytes');
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  str(): string {
    try {
      return utf8Strict.decode(this.bytes());
    } catch (err) {
      if (err instanceof CodecError) throw err;
      throw new CodecError('invalid UTF-8');
    }
  }

  strings(): string[] {
    const n = this.uint();
    if (n > this.#buf.length - this.#pos) throw new CodecError('list longer than input');
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.str());
    return out;
  }

  end(): void {
    if (this.#pos !== this.#buf.length) throw new CodecError(`${this.#buf.length - this.#pos} trailing bytes`);
  }
}

function version(r: Reader): void {
  const v = r.u8();
  if (v !== VERSION) throw new CodecError(`unsupported version ${v}`);
}

function writeConf(w: Writer, conf: ConfState): void {
  w.strings(conf.voters);
  w.strings(conf.learners);
  w.strings(conf.votersOutgoing);
}

function readConf(r: Reader): ConfState {
  return { voters: r.strings(), learners: r.strings(), votersOutgoing: r.strings() };
}

function writeMeta(w: Writer, meta: SnapshotMeta): void {
  w.uint(meta.index);
  w.uint(meta.term);
  writeConf(w, meta.conf);
}

function readMeta(r: Reader): SnapshotMeta {
  return { index: r.uint(), term: r.uint(), conf: readConf(r) };
}

function writeEntry(w: Writer, e: Entry): void {
  w.uint(e.index);
  w.uint(e.term);
  w.u8(e.type);
  w.bytes(e.data);
}

function readEntry(r: Reader): Entry {
  const index = r.uint();
  const term = r.uint();
  const type = r.u8();
  if (!ENTRY_TYPES.has(type)) throw new CodecError(`unknown entry type ${type}`);
  return { index, term, type: type, data: r.bytes() };
}

/** Encodes one message (every type). */
export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer();
  w.u8(VERSION);
  const code = MESSAGE_TYPE_CODE.get(m.type);
  if (code === undefined) throw new CodecError(`unknown message type ${String(m.type)}`);
  w.u8(code);
  w.str(m.group);
  w.str(m.from);
  w.str(m.to);
  w.uint(m.term);
  let flags = 0;
  if (m.logTerm !== undefined) flags |= Field.LogTerm;
  if (m.index !== undefined) flags |= Field.Index;
  if (m.entries !== undefined) flags |= Field.Entries;
  if (m.commit !== undefined) flags |= Field.Commit;
  if (m.reject !== undefined) flags |= Field.Reject;
  if (m.rejectHint !== undefined) flags |= Field.RejectHint;
  if (m.hintTerm !== undefined) flags |= Field.HintTerm;
  if (m.snapshot !== undefined) flags |= Field.Snapshot;
  if (m.chunkOffset !== undefined) flags |= Field.ChunkOffset;
  if (m.context !== undefined) flags |= Field.Context;
  w.uint(flags);
  if (m.logTerm !== undefined) w.uint(m.logTerm);
  if (m.index !== undefined) w.uint(m.index);
  if (m.entries !== undefined) {
    w.uint(m.entries.length);
    for (const e of m.entries) writeEntry(w, e);
  }
  if (m.commit !== undefined) w.uint(m.commit);
  if (m.reject !== undefined) w.u8(m.reject ? 1 : 0);
  if (m.rejectHint !== undefined) w.uint(m.rejectHint);
  if (m.hintTerm !== undefined) w.uint(m.hintTerm);
  if (m.snapshot !== undefined) {
    writeMeta(w, m.snapshot.meta);
    w.uint(m.snapshot.offset);
    w.bytes(m.snapshot.data);
    w.u8(m.snapshot.done ? 1 : 0);
  }
  if (m.chunkOffset !== undefined) w.uint(m.chunkOffset);
  if (m.context !== undefined) w.bytes(m.context);
  return w.finish();
}

function bool(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) throw new CodecError(`invalid boolean ${b}`);
  return b === 1;
}

/** Decodes one message; throws CodecError on anything malformed. */
export function decodeMessage(buf: Uint8Array): Message {
  const r = new Reader(buf);
  version(r);
  const type = MESSAGE_TYPES[r.u8()];
  if (type === undefined) throw new CodecError('unknown message type');
  const m: { -readonly [K in keyof Message]: Message[K] } = {
    type,
    group: r.str(),
    from: r.str(),
    to: r.str(),
    term: r.uint(),
  };
  const flags = r.uint();
  if (flags >= Field.Context << 1) throw new CodecError(`unknown fields ${flags}`);
  if (flags & Field.LogTerm) m.logTerm = r.uint();
  if (flags & Field.Index) m.index = r.uint();
  if (flags & Field.Entries) {
    const n = r.uint();
    if (n > buf.length) throw new CodecError('entry count longer than input');
    const entries: Entry[] = [];
    for (let i = 0; i < n; i++) entries.push(readEntry(r));
    m.entries = entries;
  }
  if (flags & Field.Commit) m.commit = r.uint();
  if (flags & Field.Reject) m.reject = bool(r);
  if (flags & Field.RejectHint) m.rejectHint = r.uint();
  if (flags & Field.HintTerm) m.hintTerm = r.uint();
  if (flags & Field.Snapshot) {
    const meta = readMeta(r);
    const chunk: SnapshotChunk = { meta, offset: r.uint(), data: r.bytes(), done: bool(r) };
    m.snapshot = chunk;
  }
  if (flags & Field.ChunkOffset) m.chunkOffset = r.uint();
  if (flags & Field.Context) m.context = r.bytes();
  r.end();
  return m;
}

/** Encodes a single membership change (e.g. for an admin API). */
export function encodeConfChange(change: ConfChange): Uint8Array {
  const w = new Writer();
  w.u8(VERSION);
  w.u8(change.type);
  w.str(change.node);
  return w.finish();
}

function readChange(r: Reader): ConfChange {
  const type = r.u8();
  if (!CONF_CHANGE_TYPES.has(type)) throw new CodecError(`unknown conf change type ${type}`);
  return { type: type, node: r.str() };
}

export function decodeConfChange(buf: Uint8Array): ConfChange {
  const r = new Reader(buf);
  version(r);
  const change = readChange(r);
  r.end();
  return change;
}

/** Encodes the payload of an EntryType.ConfChange entry. */
export function encodeConfChangeEntry(entry: ConfChangeEntry): Uint8Array {
  const w = new Writer();
  w.u8(VERSION);
  if (entry.change) {
    w.u8(1);
    w.u8(entry.change.type);
    w.str(entry.change.node);
  } else {
    w.u8(0);
  }
  writeConf(w, entry.conf);
  return w.finish();
}

export function decodeConfChangeEntry(buf: Uint8Array): ConfChangeEntry {
  const r = new Reader(buf);
  version(r);
  const change = bool(r) ? readChange(r) : undefined;
  const conf = readConf(r);
  r.end();
  return change ? { change, conf } : { conf };
}

/** Encodes a configuration (storage implementations may use it for the snapshot's conf). */
export function encodeConfState(conf: ConfState): Uint8Array {
  const w = new Writer();
  w.u8(VERSION);
  writeConf(w, conf);
  return w.finish();
}

export function decodeConfState(buf: Uint8Array): ConfState {
  const r = new Reader(buf);
  version(r);
  const conf = readConf(r);
  r.end();
  return conf;
}
