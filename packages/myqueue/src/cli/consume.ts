/** `myqueue consume <topic...>`: writes each message to stdout, as its value or as a JSON line. */
import type { MyQueue } from '../myqueue.js';

export interface ConsumeCommandOptions {
  readonly startAt: 'committed' | 'earliest' | 'latest';
  readonly consumerId?: number;
  /** Stop after this many messages. */
  readonly maxMessages?: number;
  /** Stop after this long without a message (0: wait forever). */
  readonly idleTimeoutMs: number;
  readonly json: boolean;
  readonly signal?: AbortSignal;
}

export async function consumeCommand(
  client: MyQueue,
  topics: readonly string[],
  options: ConsumeCommandOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const consumer = client.consumer({
    topics,
    startAt: options.startAt,
    consumerId: options.consumerId,
    signal: options.signal,
  });
  let count = 0;
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (options.idleTimeoutMs <= 0) return;
    clearTimeout(idle);
    idle = setTimeout(() => void consumer.stop(), options.idleTimeoutMs);
  };
  try {
    // The idle clock starts once the consumer is registered and has its positions.
    try {
      await consumer.connect();
    } catch (e) {
      // Interrupted while connecting: nothing was consumed.
      if (options.signal?.aborted) return count;
      throw e;
    }
    armIdle();
    for await (const m of consumer) {
      const line = options.json ? JSON.stringify(m) : m.value;
      if (!out.write(line + '\n')) await new Promise((r) => out.once('drain', r));
      count++;
      armIdle();
      if (options.maxMessages !== undefined && count >= options.maxMessages) break;
    }
  } finally {
    clearTimeout(idle);
    await consumer.stop();
  }
  return count;
}
