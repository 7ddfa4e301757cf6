/**
 * The history of a run, one JSON object per line (Jepsen's model): every operation of a client process is
 * an `invoke` followed by its completion, `ok` (it happened), `fail` (it certainly did not happen) or
 * `info` (unknown: it may or may not have happened). Observations (a consumer reading a record) and the
 * nemesis's faults are single `ok`/`info` lines.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';

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

/** Reads a history file written by HistoryWriter. */
export function readHistory(path: string): Op[] {
  const ops: Op[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) if (line.trim()) ops.push(JSON.parse(line) as Op);
  return ops;
}
