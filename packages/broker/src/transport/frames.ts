/**
 * Framing of the peer link: every frame is `u32 length | u8 type | payload`, length counting type and
 * payload. A FrameReader reassembles frames from the chunks a socket delivers.
 */
export const enum FrameType {
  /** Dialer -> acceptor: handshake (JSON). */
  Hello = 1,
  /** Acceptor -> dialer: handshake answer (JSON). */
  Welcome = 2,
  /** One Raft message, encoded by the Raft codec. */
  Raft = 3,
}

export const FRAME_HEADER = 5;

export function encodeFrame(type: FrameType, payload: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(FRAME_HEADER);
  head.writeUInt32BE(payload.byteLength + 1, 0);
  head.writeUInt8(type, 4);
  return Buffer.concat([head, payload], FRAME_HEADER + payload.byteLength);
}

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export class FrameReader {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Feeds a chunk; returns the frames it completed. Throws FrameError on an oversized or empty frame. */
  push(chunk: Buffer): { type: FrameType; payload: Buffer }[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    const frames: { type: FrameType; payload: Buffer }[] = [];
    let buf = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#buffered);
    let at = 0;
    while (buf.byteLength - at >= 4) {
      const len = buf.readUInt32BE(at);
      if (len < 1 || len > this.#maxFrameBytes) throw new FrameError(`bad frame length ${len}`);
      if (buf.byteLength - at - 4 < len) break;
      frames.push({ type: buf.readUInt8(at + 4), payload: buf.subarray(at + FRAME_HEADER, at + 4 + len) });
      at += 4 + len;
    }
    buf = buf.subarray(at);
    this.#chunks = buf.byteLength > 0 ? [buf] : [];
    this.#buffered = buf.byteLength;
    return frames;
  }
}
