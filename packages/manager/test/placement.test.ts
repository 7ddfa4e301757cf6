import { describe, expect, it } from 'vitest';
import { chooseReplacement, loadOf, placePartitions } from '../src/placement.js';

function count(lists: string[][], pick: (l: string[]) => string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const l of lists) for (const b of pick(l)) c[b] = (c[b] ?? 0) + 1;
  return c;
}

describe('placement', () => {
  it('spreads preferred leaders and replicas evenly over the brokers', () => {
    const brokers = ['b1', 'b2', 'b3'];
    const placed = placePartitions(brokers, loadOf(brokers, []), 3, 3);
    expect(placed.map((l) => new Set(l).size)).toEqual([3, 3, 3]);
    expect(count(placed, (l) => [l[0]])).toEqual({ b1: 1, b2: 1, b3: 1 });
  });

  it('balances six brokers with factor 3: one leader and three replicas each', () => {
    const brokers = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
    const placed = placePartitions(brokers, loadOf(brokers, []), 6, 3);
    expect(Object.values(count(placed, (l) => [l[0]]))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Object.values(count(placed, (l) => l))).toEqual([3, 3, 3, 3, 3, 3]);
  });

  it('takes existing load into account so a second topic lands on the emptier brokers', () => {
    const brokers = ['b1', 'b2', 'b3', 'b4'];
    const load = loadOf(brokers, [['b1', 'b2']]);
    const [first] = placePartitions(brokers, load, 1, 2);
    expect(first).toEqual(['b3', 'b4']);
  });

  it('keeps the totals balanced for many partitions and any factor', () => {
    for (let n = 1; n <= 7; n++) {
      const brokers = Array.from({ length: n }, (_, i) => `b${i}`);
      for (let f = 1; f <= Math.min(n, 5); f++) {
        const placed = placePartitions(brokers, loadOf(brokers, []), 10 * n, f);
        for (const l of placed) expect(new Set(l).size).toBe(f);
        const replicas = Object.values(count(placed, (l) => l));
        const leaders = Object.values(count(placed, (l) => [l[0]]));
        expect(Math.max(...replicas) - Math.min(...replicas)).toBeLessThanOrEqual(1);
        expect(Math.max(...leaders) - Math.min(...leaders)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('refuses a factor larger than the live brokers', () => {
    expect(() => placePartitions(['b1', 'b2'], loadOf(['b1', 'b2'], []), 1, 3)).toThrow(RangeError);
  });

  it('moves a replica to the least loaded live broker that is not a member yet', () => {
    const live = ['b2', 'b3', 'b4', 'b5'];
    const load = loadOf(live, [['b4', 'b2'], ['b4'], ['b5']]);
    expect(chooseReplacement(live, load, ['b1', 'b2', 'b3'])).toBe('b5');
    expect(chooseReplacement(['b2', 'b3'], load, ['b1', 'b2', 'b3'])).toBeUndefined();
  });
});
