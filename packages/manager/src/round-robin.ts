/**
 * The logging-queue API's rotations, kept in the memory of the manager serving the requests:
 * - produce: each produce naming no partition goes to the topic's next partition (30 produces to a
 *   3-partition topic put 10 in each);
 * - consume: each consume naming no partition tries the consumer's partitions in rotation, starting after
 *   the one it last consumed from, and takes the first that has an unconsumed message.
 * A restarted manager starts the rotations over; two managers rotate independently (docs/manager.md).
 */
export class RoundRobin {
  readonly #next = new Map<string, number>();
  /** Bounds memory when clients come and go: the oldest cursors are forgotten first. */
  readonly #max: number;

  constructor(maxKeys = 100_000) {
    this.#max = maxKeys;
  }

  /** The partition for the next produce to `key` among `count` partitions, advancing the rotation. */
  next(key: string, count: number): number {
    const p = (this.#next.get(key) ?? 0) % count;
    this.#set(key, (p + 1) % count);
    return p;
  }

  /** All `count` partitions in the order to try them, starting at the rotation's position (not advanced). */
  order(key: string, count: number): number[] {
    const start = (this.#next.get(key) ?? 0) % count;
    return Array.from({ length: count }, (_, i) => (start + i) % count);
  }

  /** Records that `key` was served by `partition`: the rotation resumes after it. */
  servedBy(key: string, partition: number, count: number): void {
    this.#set(key, (partition + 1) % count);
  }

  #set(key: string, value: number): void {
    this.#next.delete(key);
    this.#next.set(key, value);
    if (this.#next.size > this.#max) this.#next.delete(this.#next.keys().next().value!);
  }
}
