/**
 * A seeded `() => number` in [0, 1) (mulberry32) for harnesses that take Math.random's shape: the raft
 * test clusters' election timers and the fault suite's schedule, replayable from a seed. The simulator
 * uses its own Prng (sim/prng.ts), whose streams fork.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
