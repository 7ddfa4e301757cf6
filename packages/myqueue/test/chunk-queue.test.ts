import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkQueue } from '../src/chunk-queue.js';

describe('ChunkQueue (the consumer read-ahead buffer)', () => {
  it('hands out items in arrival order with their owner, skipping empty chunks', () => {
    const q = new ChunkQueue<string, number>();
    expect(q.take()).toBeUndefined();
    q.push('a', [1, 2]);
    q.push('b', []);
    q.push('b', [3]);
    expect(q.size).toBe(3);
    expect(q.take()).toBe(1);
    expect(q.lastOwner).toBe('a');
    q.push('a', [4]);
    expect([q.take(), q.take(), q.take()]).toEqual([2, 3, 4]);
    expect(q.size).toBe(0);
    expect(q.take()).toBeUndefined();
  });

  it('drops the pending items of one owner only', () => {
    const q = new ChunkQueue<string, number>();
    q.push('a', [1, 2, 3]);
    q.push('b', [10]);
    q.push('a', [4]);
    expect(q.take()).toBe(1);
    expect(q.drop('a')).toBe(3);
    expect(q.size).toBe(1);
    q.push('a', [5]);
    expect([q.take(), q.take(), q.take()]).toEqual([10, 5, undefined]);
  });

  it('behaves like one flat FIFO under any mix of pushes, takes and drops (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), owner: fc.integer({ min: 0, max: 2 }), n: fc.nat(5) }),
      fc.record({ kind: fc.constant('take' as const), times: fc.integer({ min: 1, max: 80 }) }),
      fc.record({ kind: fc.constant('drop' as const), owner: fc.integer({ min: 0, max: 2 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new ChunkQueue<number, number>();
        let model: { owner: number; item: number }[] = [];
        let id = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const items = Array.from({ length: o.n }, () => id++);
            q.push(o.owner, items);
            model.push(...items.map((item) => ({ owner: o.owner, item })));
          } else if (o.kind === 'take') {
            for (let i = 0; i < o.times; i++) {
              const want = model.shift();
              expect(q.take()).toBe(want?.item);
              if (want) expect(q.lastOwner).toBe(want.owner);
            }
          } else {
            const before = model.length;
            model = model.filter((m) => m.owner !== o.owner);
            expect(q.drop(o.owner)).toBe(before - model.length);
          }
          expect(q.size).toBe(model.length);
        }
      }),
    );
  });
});
