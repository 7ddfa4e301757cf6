import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRoundRobinPartitioner, murmur2, partitionForKey, StickyPartitions } from '../src/partitioner.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('murmur2', () => {
  it("matches Kafka's Utils.murmur2 on its published test vectors", () => {
    const cases: Record<string, number> = {
      '21': -973932308,
      foobar: -790332482,
      'a-little-bit-long-string': -985981536,
      'a-little-bit-longer-string': -1486304829,
      lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8: -58897971,
      abc: 479470107,
      '1': -1993445489,
      '12': 126087238,
      '123': -267702483,
      '1234': -1614185708,
      '12345': -1188365604,
    };
    for (const [key, hash] of Object.entries(cases)) expect(murmur2(utf8(key)), key).toBe(hash);
  });

  it('hashes the empty key and returns a signed 32-bit integer for any input', () => {
    expect(Number.isInteger(murmur2(new Uint8Array(0)))).toBe(true);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const h = murmur2(bytes);
        return Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31;
      }),
    );
  });
});

describe('partitionForKey', () => {
  it('is stable and in range', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1000 }), (key, n) => {
        const p = partitionForKey(key, n);
        return p >= 0 && p < n && p === partitionForKey(key, n);
      }),
    );
  });

  it('spreads keys over partitions', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[partitionForKey(`key-${i}`, 3)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});

describe('round-robin partitioner', () => {
  it('routes keyed records by murmur2 and rotates keyless records per topic', () => {
    const partitioner = createRoundRobinPartitioner();
    expect(partitioner({ topic: 't', key: 'abc', partitionCount: 7 })).toBe(partitionForKey('abc', 7));
    const seen = [0, 1, 2, 3, 4, 5].map(() => partitioner({ topic: 'a', key: null, partitionCount: 3 }));
    expect(seen).toEqual([0, 1, 2, 0, 1, 2]);
    expect(partitioner({ topic: 'b', key: undefined, partitionCount: 3 })).toBe(0);
  });
});

describe('sticky partitions', () => {
  it('keeps a topic on one partition until it moves on, then takes the next', () => {
    const sticky = new StickyPartitions(() => 0.5);
    expect([1, 2, 3].map(() => sticky.partition('t', 4))).toEqual([2, 2, 2]);
    sticky.moveOn('t', 2);
    expect(sticky.partition('t', 4)).toBe(3);
    sticky.moveOn('t', 3);
    expect(sticky.partition('t', 4)).toBe(0);
  });

  it('ignores a batch of a partition that is no longer the sticky one', () => {
    const sticky = new StickyPartitions(() => 0);
    expect(sticky.partition('t', 3)).toBe(0);
    sticky.moveOn('t', 2);
    sticky.moveOn('other', 0);
    expect(sticky.partition('t', 3)).toBe(0);
  });

  it('starts each topic on a random partition and follows a changed partition count', () => {
    const draws = [0.1, 0.99];
    const sticky = new StickyPartitions(() => draws.shift() ?? 0);
    expect(sticky.partition('a', 10)).toBe(1);
    expect(sticky.partition('b', 10)).toBe(9);
    expect(sticky.partition('b', 4)).toBe(1);
    sticky.moveOn('b', 1);
    expect(sticky.partition('b', 4)).toBe(2);
  });
});
