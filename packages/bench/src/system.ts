/**
 * A system under test, seen by the workloads (workloads.ts) through the few operations they need: the
 * myqueue adapter (myqueue-system.ts) and the NATS JetStream adapter (nats-system.ts) implement it, so
 * both run exactly the same workload code.
 */
export interface ProducerHandle {
  /** Sends one message; resolves once it is acknowledged (durable as the system defines it). */
  send(value: string): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumerHandle {
  stop(): Promise<void>;
}

export interface System {
  /** e.g. "myqueue R3" */
  readonly name: string;
  /** Messages kept in flight by one producer in the throughput runs. */
  readonly window: number;
  /** Creates a topic / stream; `partitions` is a hint for systems that shard (default: the system's own). */
  createStream(name: string, partitions?: number): Promise<void>;
  producer(stream: string): Promise<ProducerHandle>;
  /**
   * Reads the stream from its first message until `expected` messages arrived or `timeoutMs` passed;
   * calls onMessage for each. Resolves to the count read.
   */
  readAll(stream: string, expected: number, timeoutMs: number, onMessage: () => void): Promise<number>;
  /** Starts a consumer of the messages produced from now on. */
  tail(stream: string, onValue: (value: string) => void): Promise<ConsumerHandle>;
  /**
   * One failover round: kills the stream's leader with SIGKILL and resolves to the milliseconds until a
   * produce (a probe sent right after the kill, retried as the client does) succeeded again; then brings the killed node back and waits until it caught up. Absent when the
   * system has a single replica.
   */
  failoverRound?(stream: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * The readAll loop both adapters share: counts what `messages` yields until `expected` arrived or
 * `timeoutMs` passed (then `stop` ends the iteration), and always stops the source.
 */
export async function countUntil(
  messages: AsyncIterable<unknown>,
  expected: number,
  timeoutMs: number,
  stop: () => Promise<unknown>,
  onMessage: () => void,
): Promise<number> {
  const timer = setTimeout(() => void stop(), timeoutMs);
  let count = 0;
  try {
    for await (const _ of messages) {
      count++;
      onMessage();
      if (count >= expected) break;
    }
  } finally {
    clearTimeout(timer);
    await stop();
  }
  return count;
}
