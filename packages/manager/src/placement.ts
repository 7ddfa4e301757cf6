/**
 * Replica placement: which brokers hold each partition, and which of them is the preferred leader (first).
 * Pure functions over broker ids and their current load, so they are tested without a cluster.
 */

export interface BrokerLoad {
  /** Replicas (voters and learners) the broker holds. */
  replicas: number;
  /** Partitions whose preferred leader it is. */
  leaders: number;
}

export type LoadMap = Map<string, BrokerLoad>;

/** Counts each broker's replicas and preferred leaderships from existing replica lists. */
export function loadOf(brokers: readonly string[], replicaLists: Iterable<readonly string[]>): LoadMap {
  const load: LoadMap = new Map(brokers.map((b) => [b, { replicas: 0, leaders: 0 }]));
  for (const list of replicaLists) {
    list.forEach((b, i) => {
      const l = load.get(b);
      if (!l) return;
      l.replicas++;
      if (i === 0) l.leaders++;
    });
  }
  return load;
}

/**
 * Places `partitions` new partitions with `factor` replicas each on `brokers` (the live ones), given their
 * current load. Each partition's preferred leader is the broker leading the fewest partitions; its followers
 * are the brokers holding the fewest replicas, ties broken by walking the ring from the leader so that
 * followers spread too. Throws RangeError when there are fewer brokers than `factor` (Kafka refuses too:
 * a partition with two replicas on one broker is not replicated).
 */
export function placePartitions(brokers: readonly string[], load: LoadMap, partitions: number, factor: number): string[][] {
  if (factor < 1) throw new RangeError('replication factor must be >= 1');
  if (brokers.length < factor) throw new RangeError(`replication factor ${factor} needs ${factor} live brokers, ${brokers.length} alive`);
  const ring = [...brokers].sort();
  const l = (b: string): BrokerLoad => {
    let v = load.get(b);
    if (!v) load.set(b, (v = { replicas: 0, leaders: 0 }));
    return v;
  };
  const placed: string[][] = [];
  for (let p = 0; p < partitions; p++) {
    const leader = minBy(ring, (b, i) => [l(b).leaders, l(b).replicas, i]);
    const start = ring.indexOf(leader);
    const byRingDistance = (b: string): number => (ring.indexOf(b) - start + ring.length) % ring.length;
    const followers = ring
      .filter((b) => b !== leader)
      .sort((a, b) => l(a).replicas - l(b).replicas || byRingDistance(a) - byRingDistance(b))
      .slice(0, factor - 1);
    const replicas = [leader, ...followers];
    l(leader).leaders++;
    for (const b of replicas) l(b).replicas++;
    placed.push(replicas);
  }
  return placed;
}

/** The live broker (not already a member) that should receive a moved replica: the least loaded. */
export function chooseReplacement(live: readonly string[], load: LoadMap, members: readonly string[]): string | undefined {
  const candidates = [...live].sort().filter((b) => !members.includes(b));
  if (candidates.length === 0) return undefined;
  return minBy(candidates, (b, i) => [load.get(b)?.replicas ?? 0, i]);
}

function minBy<T>(items: readonly T[], key: (item: T, index: number) => number[]): T {
  if (items.length === 0) throw new RangeError('minBy of nothing');
  let best: T = items[0];
  let bestKey = key(best, 0);
  items.forEach((item, i) => {
    const k = key(item, i);
    for (let j = 0; j < k.length; j++) {
      if (k[j] < bestKey[j]) {
        best = item;
        bestKey = k;
        return;
      }
      if (k[j] > bestKey[j]) return;
    }
  });
  return best;
}
