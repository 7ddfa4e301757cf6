/** `myqueue produce <topic> [file]`: one message per line of a file (with a progress bar) or of stdin. */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SingleBar, Presets } from 'cli-progress';
import type { MyQueue } from '../myqueue.js';
import type { Message } from '../producer.js';

export interface ProduceCommandOptions {
  readonly key?: string;
  readonly partition?: number;
  readonly lingerMs?: number;
  readonly batchSize?: number;
  readonly idempotent: boolean;
  readonly create: boolean;
  /** Show a progress bar (files only; the CLI's default: when stderr is a terminal). */
  readonly progress: boolean;
  /** Most messages waiting for their ack at once; reading pauses above it. */
  readonly maxPending: number;
}

export interface ProduceSummary {
  readonly sent: number;
  readonly failed: number;
  readonly firstError: unknown;
  readonly elapsedMs: number;
}

export async function produceCommand(
  client: MyQueue,
  topic: string,
  file: string | undefined,
  options: ProduceCommandOptions,
  input: NodeJS.ReadableStream = process.stdin,
): Promise<ProduceSummary> {
  const producer = client.producer({
    idempotent: options.idempotent,
    lingerMs: options.lingerMs,
    batchSize: options.batchSize,
    allowAutoTopicCreation: options.create,
  });
  const started = Date.now();
  const stream = file ? createReadStream(file) : input;
  const total = file ? statSync(file).size : 0;
  const bar =
    file && options.progress
      ? new SingleBar(
          {
            format: 'produce |{bar}| {percentage}% | {sent} sent | {eta}s left',
            stream: process.stderr,
            // Forced on without a terminal (--progress): a plain line now and then instead of redrawing.
            noTTYOutput: true,
            notTTYSchedule: 1000,
          },
          Presets.shades_classic,
        )
      : undefined;
  bar?.start(total, 0, { sent: 0 });
  let sent = 0;
  let failed = 0;
  let firstError: unknown;
  let readBytes = 0;
  const pending = new Set<Promise<void>>();
  try {
    await producer.connect([topic]);
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      readBytes += Buffer.byteLength(line) + 1;
      if (line.length === 0) continue;
      const message: Message = { value: line, key: options.key, partition: options.partition };
      const p = producer.send({ topic, messages: [message] }).then(
        () => {
          sent++;
          bar?.update(Math.min(readBytes, total), { sent });
        },
        (e: unknown) => {
          failed++;
          firstError ??= e;
        },
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
      // Lines are read far faster than they are acknowledged: wait before memory fills up.
      if (pending.size >= options.maxPending) await Promise.race(pending);
      if (firstError) break;
    }
    await Promise.all(pending);
  } finally {
    await producer.close().catch(() => undefined);
    if (bar) {
      bar.update(firstError ? readBytes : total, { sent });
      bar.stop();
    }
  }
  return { sent, failed, firstError, elapsedMs: Date.now() - started };
}
