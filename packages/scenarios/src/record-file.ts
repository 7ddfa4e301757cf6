/**
 * The files producers and consumers write: one record per line, `topic<TAB>partition<TAB>offset<TAB>message`
 * (the message, which has tabs of its own, is the rest of the line). Producers log what was acknowledged,
 * consumers what they received, in the order it happened.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';

export interface RecordLine {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly message: string;
}

export function formatRecord(r: RecordLine): string {
  return `${r.topic}\t${r.partition}\t${r.offset}\t${r.message}`;
}

export function parseRecord(line: string, where = 'record'): RecordLine {
  const parts = line.split('\t');
  const [topic, partition, offset] = parts;
  const p = Number(partition);
  const o = Number(offset);
  if (parts.length < 4 || !topic || !Number.isInteger(p) || !Number.isInteger(o))
    throw new Error(`${where}: not a record line: ${JSON.stringify(line)}`);
  return { topic, partition: p, offset: o, message: parts.slice(3).join('\t') };
}

export function readRecordFile(path: string): RecordLine[] {
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l, i) => parseRecord(l, `${path}:${i + 1}`));
}

/** Appends record lines to a file as they happen, respecting the stream's backpressure. */
export class RecordWriter {
  readonly #out: WriteStream;

  constructor(path: string) {
    this.#out = createWriteStream(path, { flags: 'w' });
  }

  async write(r: RecordLine): Promise<void> {
    if (!this.#out.write(formatRecord(r) + '\n')) await once(this.#out, 'drain');
  }

  async close(): Promise<void> {
    this.#out.end();
    await once(this.#out, 'finish');
  }
}
