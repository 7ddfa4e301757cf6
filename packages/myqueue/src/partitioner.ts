/**
 * Partition choice for records without an explicit partition. Keyed records go where Kafka's default
 * partitioner would put them (murmur2 of the UTF-8 key, sign bit cleared, modulo the partition count), so
 * a key always lands on the same partition while the count is unchanged; keyless records rotate.
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

/** The default: murmur2 for keyed records, round-robin per topic for the others. */
export function createDefaultPartitioner(): Partitioner {
  const next = new Map<string, number>();
  return ({ topic, key, partitionCount }) => {
    if (key !== null && key !== undefined) return partitionForKey(key, partitionCount);
    const n = next.get(topic) ?? 0;
    next.set(topic, (n + 1) % 1_000_000_007);
    return n % partitionCount;
  };
}
