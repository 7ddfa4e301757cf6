/**
 * Partition choice for records without an explicit partition. Keyed records go where Kafka's default
 * partitioner would put them (murmur2 of the UTF-8 key, sign bit cleared, modulo the partition count), so
 * a key always lands on the same partition while the count is unchanged. Keyless records stick to one
 * partition per topic until a batch of it leaves (Kafka's sticky partitioner, KIP-480/KIP-794).
 */

export interface PartitionerArgs {
  readonly topic: string;
  readonly key: string | null | undefined;
  readonly partitionCount: number;
}

/** Returns a partition index in [0, partitionCount). */
export type Partitioner = (args: PartitionerArgs) => number;

const encoder = new TextEncoder();

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2): a signed 32-bit hash. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2] << 16;
  if (rest >= 2) h ^= data[whole + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole], m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for a key. */
export function partitionForKey(key: string, partitionCount: number): number {
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitionCount;
}

/**
 * murmur2 for keyed records, and each keyless record on the next partition of its topic. Not the
 * producer's default (that is murmur2 + StickyPartitions): rotating per record splits what would be
 * one batch into one batch per partition, so more and smaller requests for the same records.
 */
export function createRoundRobinPartitioner(): Partitioner {
  const next = new Map<string, number>();
  return ({ topic, key, partitionCount }) => {
    if (key !== null && key !== undefined) return partitionForKey(key, partitionCount);
    const n = next.get(topic) ?? 0;
    next.set(topic, (n + 1) % 1_000_000_007);
    return n % partitionCount;
  };
}

/**
 * The producer's choice for keyless records without a partitioner: every keyless record of a topic goes
 * to the topic's current partition until a batch of that partition is taken for sending or holds a full
 * batch; then the next partition takes over. At a modest rate that makes one batch per linger instead of
 * one per partition (fewer, fuller requests: less CPU on the client and on every replica, lower
 * latency), while over time every partition gets its share. The first partition is random, so producers
 * started together do not all begin on partition 0.
 */
export class StickyPartitions {
  readonly #current = new Map<string, { partition: number; count: number }>();
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** The partition for the topic's next keyless record. */
  partition(topic: string, partitionCount: number): number {
    let c = this.#current.get(topic);
    if (!c) {
      c = { partition: Math.floor(this.#random() * partitionCount), count: partitionCount };
      this.#current.set(topic, c);
    } else if (c.count !== partitionCount) {
      // Metadata changed the topic's partition count.
      c.count = partitionCount;
      c.partition %= partitionCount;
    }
    return c.partition;
  }

  /** A batch of `partition` left (or filled up): the topic's later keyless records go to the next one. */
  moveOn(topic: string, partition: number): void {
    const c = this.#current.get(topic);
    if (c?.partition === partition) c.partition = (partition + 1) % c.count;
  }
}
