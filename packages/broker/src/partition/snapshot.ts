import type { BatchRow } from './partition-store.js';
import type { ProducerWindow } from './producer-window.js';

/**
 * Partition snapshot format. A snapshot is a header (small, JSON) and the message batches below the
 * header's `nextOffset`:
 *
 *   "MQS1" | u32 headerLength | header JSON | ( f64 baseOffset | u32 count | f64 timestamp | u32 length | data )*
 *
 * Messages are immutable once applied, so the header alone pins the state at the snapshot's index: the
 * broker stores only the header when it compacts the Raft log (cheap, whatever the partition size) and
 * materializes the batches only when a follower needs the snapshot (see raft-host/snapshot-storage.ts).
 */
export interface SnapshotHeader {
  readonly nextOffset: number;
  readonly logStartOffset: number;
  readonly positions: readonly (readonly [number, number])[];
  readonly producers: readonly (readonly [number, ProducerWindow])[];
}

const MAGIC = 0x4d515331; // "MQS1"
const BATCH_HEADER = 8 + 4 + 8 + 4;

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}

/** Encodes a snapshot; `batches` null makes a header-only snapshot (see above). */
export function encodeSnapshot(header: SnapshotHeader, batches: Iterable<BatchRow> | null): Uint8Array {
  const headerBytes = Buffer.from(JSON.stringify({ ...header, complete: batches !== null }));
  const parts: Uint8Array[] = [];
  const head = Buffer.alloc(8);
  head.writeUInt32BE(MAGIC, 0);
  head.writeUInt32BE(headerBytes.byteLength, 4);
  parts.push(head, headerBytes);
  let total = head.byteLength + headerBytes.byteLength;
  for (const b of batches ?? []) {
    const bh = Buffer.alloc(BATCH_HEADER);
    bh.writeDoubleBE(b.base_offset, 0);
    bh.writeUInt32BE(b.count, 8);
    bh.writeDoubleBE(b.timestamp, 12);
    bh.writeUInt32BE(b.data.byteLength, 20);
    parts.push(bh, b.data);
    total += BATCH_HEADER + b.data.byteLength;
  }
  return Buffer.concat(parts, total);
}

/** `complete` is false for a header-only snapshot. */
export function decodeSnapshotHeader(data: Uint8Array): {
  header: SnapshotHeader;
  complete: boolean;
  bodyStart: number;
} {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.byteLength < 8 || buf.readUInt32BE(0) !== MAGIC) throw new SnapshotFormatError('not a partition snapshot');
  const len = buf.readUInt32BE(4);
  if (8 + len > buf.byteLength) throw new SnapshotFormatError('truncated snapshot header');
  const { complete, ...header } = JSON.parse(buf.toString('utf8', 8, 8 + len)) as SnapshotHeader & {
    complete: boolean;
  };
  return { header, complete, bodyStart: 8 + len };
}

/** The batches of a snapshot, as views into `data` (no copies). */
export function* snapshotBatches(data: Uint8Array, bodyStart: number): Generator<BatchRow> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = bodyStart;
  while (at < buf.byteLength) {
    if (at + BATCH_HEADER > buf.byteLength) throw new SnapshotFormatError('truncated batch header');
    const base_offset = buf.readDoubleBE(at);
    const count = buf.readUInt32BE(at + 8);
    const timestamp = buf.readDoubleBE(at + 12);
    const len = buf.readUInt32BE(at + 20);
    at += BATCH_HEADER;
    if (at + len > buf.byteLength) throw new SnapshotFormatError('truncated batch');
    yield { base_offset, count, timestamp, data: buf.subarray(at, at + len) };
    at += len;
  }
}
