/**
 * The history of a run, one JSON object per line (Jepsen's model): every operation of a client process is
 * an `invoke` followed by its completion, `ok` (it happened), `fail` (it certainly did not happen) or
 * `info` (unknown: it may or may not have happened). Observations (a consumer reading a record) and the
 * nemesis's faults are single `ok`/`info` lines.
 */
import { StringDecoder } from 'node:string_decoder';
import { closeSync, createWriteStream, openSync, readSync, type WriteStream } from 'node:fs';

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** A producer's send of one numbered message. `id` is the message's value, unique in the run. */
export interface SendValue {
  readonly id: string;
  readonly partition: number;
  /** On `ok`: the offset the cluster acknowledged. */
  readonly offset?: number;
}

/** A consumer's read of one record. */
export interface ReadValue {
  readonly partition: number;
  readonly offset: number;
  readonly id: string;
}

/** One line of the history. `value` is a SendValue for `send`, a ReadValue for `read`. */
export interface Op {
  /** Milliseconds since the run started. */
  readonly t: number;
  /** Who did it: a producer (p1), a consumer (c1) or the nemesis. */
  readonly process: string;
  readonly type: OpType;
  /** What: send, read, or a fault name. */
  readonly f: string;
  readonly value?: unknown;
  /** Why a send failed or has an unknown outcome. */
  readonly error?: string;
}

/** Appends operations to a JSON-lines file. */
export class HistoryWriter {
  readonly #out: WriteStream;
  readonly #start = Date.now();
  #count = 0;

  constructor(readonly path: string) {
    this.#out = createWriteStream(path, { flags: 'w' });
  }

  get count(): number {
    return this.#count;
  }

  /** Records an operation; `t` is milliseconds since the run started. */
  write(op: Omit<Op, 't'>): void {
    this.#count++;
    this.#out.write(`${JSON.stringify({ t: Date.now() - this.#start, ...op })}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.#out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

/** Reads a history file written by HistoryWriter (in chunks: a soak's history outgrows one string). */
export function readHistory(path: string): Op[] {
  const ops: Op[] = [];
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(8 << 20);
    const decoder = new StringDecoder('utf8'); // keeps a character cut at a chunk's end for the next one
    let rest = '';
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.byteLength, null);
      if (n === 0) break;
      const lines = (rest + decoder.write(chunk.subarray(0, n))).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) ops.push(JSON.parse(line) as Op);
    }
    if (rest.trim()) ops.push(JSON.parse(rest) as Op);
  } finally {
    closeSync(fd);
  }
  return ops;
}
