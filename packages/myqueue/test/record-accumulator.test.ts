import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordAccumulator, recordBytes } from '../src/record-accumulator.js';

const rec = (value: string) => ({ value });

describe('RecordAccumulator', () => {
  it('holds records until linger expires, then drains one batch per partition', () => {
    const acc = new RecordAccumulator<number>({ batchSize: 100, batchBytes: 1 << 20, lingerMs: 10, maxInFlight: 1 });
    acc.append('t', 0, rec('a'), 1, 1000);
    acc.append('t', 0, rec('b'), 2, 1003);
    acc.append('t', 1, rec('c'), 3, 1005);
    expect(acc.drainReady(1005)).toEqual([]);
    expect(acc.nextWakeup(1005)).toBe(5);
    const first = acc.drainReady(1010);
    expect(first.map((b) => [b.partition, b.records.map((r) => r.handle)])).toEqual([[0, [1, 2]]]);
    expect(acc.nextWakeup(1010)).toBe(5);
    expect(acc.drainReady(1015).map((b) => b.partition)).toEqual([1]);
  });

  it('keeps one batch per partition in flight; records meanwhile wait for the next batch', () => {
    const acc = new RecordAccumulator<number>({ batchSize: 100, batchBytes: 1 << 20, lingerMs: 0, maxInFlight: 1 });
    acc.append('t', 0, rec('a'), 1, 0);
    expect(acc.drainReady(0)[0].records).toHaveLength(1);
    for (let i = 2; i <= 5; i++) acc.append('t', 0, rec('x'), i, 0);
    expect(acc.drainReady(100)).toEqual([]);
    expect(acc.nextWakeup(100)).toBeUndefined();
    expect(acc.idle).toBe(false);
    acc.complete('t', 0);
    expect(acc.drainReady(100)[0].records.map((r) => r.handle)).toEqual([2, 3, 4, 5]);
    acc.complete('t', 0);
    expect(acc.idle).toBe(true);
  });

  it('makes a full batch ready at once and splits by count and bytes', () => {
    const acc = new RecordAccumulator<number>({ batchSize: 3, batchBytes: 1 << 20, lingerMs: 1000, maxInFlight: 1 });
    for (let i = 0; i < 7; i++) acc.append('t', 0, rec('v'), i, 0);
    expect(acc.drainReady(0)[0].records.map((r) => r.handle)).toEqual([0, 1, 2]);
    acc.complete('t', 0);
    expect(acc.drainReady(0)[0].records.map((r) => r.handle)).toEqual([3, 4, 5]);
    acc.complete('t', 0);
    expect(acc.drainReady(0)).toEqual([]);

    const small = new RecordAccumulator<number>({
      batchSize: 100,
      batchBytes: 2 * recordBytes(rec('x'.repeat(100))),
      lingerMs: 1000,
      maxInFlight: 1,
    });
    for (let i = 0; i < 5; i++) small.append('t', 0, rec('x'.repeat(100)), i, 0);
    expect(small.drainReady(0)[0].records).toHaveLength(2);
  });

  it('tells when a partition holds a whole batch, by count or by bytes', () => {
    const full: string[] = [];
    const onFull = (topic: string, partition: number) => full.push(`${topic}/${partition}`);
    const acc = new RecordAccumulator<number>(
      { batchSize: 3, batchBytes: 1 << 20, lingerMs: 1000, maxInFlight: 1 },
      onFull,
    );
    acc.append('t', 0, rec('a'), 1, 0);
    acc.append('t', 0, rec('b'), 2, 0);
    acc.append('t', 1, rec('z'), 9, 0);
    expect(full).toEqual([]);
    acc.append('t', 0, rec('c'), 3, 0);
    expect(full).toEqual(['t/0']);
    const bytes = new RecordAccumulator<number>(
      { batchSize: 100, batchBytes: 60, lingerMs: 1000, maxInFlight: 1 },
      onFull,
    );
    bytes.append('t', 2, rec('x'.repeat(30)), 1, 0);
    expect(full).toEqual(['t/0', 't/2']);
  });

  it('sends a record larger than batchBytes on its own', () => {
    const acc = new RecordAccumulator<number>({ batchSize: 100, batchBytes: 10, lingerMs: 0, maxInFlight: 1 });
    acc.append('t', 0, rec('x'.repeat(50)), 1, 0);
    acc.append('t', 0, rec('y'), 2, 0);
    expect(acc.drainReady(0)[0].records.map((r) => r.handle)).toEqual([1]);
  });

  it('drains everything during a flush and lets an aborted record out before it is drained', () => {
    const acc = new RecordAccumulator<number>({
      batchSize: 100,
      batchBytes: 1 << 20,
      lingerMs: 60_000,
      maxInFlight: 1,
    });
    const a = acc.append('t', 0, rec('a'), 1, 0);
    acc.append('t', 0, rec('b'), 2, 0);
    expect(acc.remove('t', 0, a)).toBe(true);
    const end = acc.beginFlush();
    const [batch] = acc.drainReady(0);
    expect(batch.records.map((r) => r.handle)).toEqual([2]);
    expect(acc.remove('t', 0, batch.records[0])).toBe(false);
    end();
    end();
    acc.complete('t', 0);
    acc.append('t', 0, rec('c'), 3, 0);
    expect(acc.drainReady(1)).toEqual([]);
  });

  it('pipelines up to maxInFlight batches of a partition, only while the caller allows it', () => {
    const acc = new RecordAccumulator<number>({ batchSize: 2, batchBytes: 1 << 20, lingerMs: 0, maxInFlight: 3 });
    for (let i = 0; i < 10; i++) acc.append('t', 0, rec('x'), i, 0);
    let allowed = false;
    const canPipeline = () => allowed;
    expect(acc.drainReady(0, canPipeline).map((b) => b.records.map((r) => r.handle))).toEqual([[0, 1]]);
    expect(acc.drainReady(0, canPipeline)).toEqual([]);
    expect(acc.nextWakeup(0, canPipeline)).toBeUndefined();
    allowed = true;
    expect(acc.nextWakeup(0, canPipeline)).toBe(0);
    expect(acc.drainReady(0, canPipeline).map((b) => b.records.map((r) => r.handle))).toEqual([
      [2, 3],
      [4, 5],
    ]);
    expect(acc.drainReady(0, canPipeline)).toEqual([]);
    acc.complete('t', 0);
    expect(acc.drainReady(0, canPipeline).map((b) => b.records.map((r) => r.handle))).toEqual([[6, 7]]);
    for (let i = 0; i < 3; i++) acc.complete('t', 0);
    expect(acc.drainReady(0, canPipeline).map((b) => b.records.map((r) => r.handle))).toEqual([[8, 9]]);
    expect(acc.idle).toBe(false);
    acc.complete('t', 0);
    expect(acc.idle).toBe(true);
  });

  it('delivers every record exactly once, in append order per partition (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            p: fc.integer({ min: 0, max: 3 }),
            len: fc.integer({ min: 0, max: 300 }),
            dt: fc.integer({ min: 0, max: 4 }),
          }),
          { maxLength: 200 },
        ),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 5 }),
        (ops, batchSize, batchBytes, maxInFlight) => {
          const acc = new RecordAccumulator<number>({ batchSize, batchBytes, lingerMs: 3, maxInFlight });
          const pipeline = () => true;
          const out = new Map<number, number[]>();
          let now = 0;
          const inflight: { partition: number; handles: number[] }[] = [];
          const step = () => {
            for (const b of acc.drainReady(now, pipeline)) {
              expect(b.records.length).toBeLessThanOrEqual(batchSize);
              if (b.records.length > 1) expect(b.bytes).toBeLessThanOrEqual(batchBytes);
              inflight.push({ partition: b.partition, handles: b.records.map((r) => r.handle) });
            }
            // Complete the oldest in-flight batch.
            const done = inflight.shift();
            if (done) {
              out.set(done.partition, [...(out.get(done.partition) ?? []), ...done.handles]);
              acc.complete('t', done.partition);
            }
          };
          ops.forEach((op, i) => {
            now += op.dt;
            acc.append('t', op.p, rec('v'.repeat(op.len)), i, now);
            step();
          });
          for (let guard = 0; !acc.idle && guard < 10_000; guard++) {
            now += 1;
            step();
          }
          expect(acc.idle).toBe(true);
          for (let p = 0; p <= 3; p++) {
            const expected = ops.map((op, i) => (op.p === p ? i : -1)).filter((i) => i >= 0);
            expect(out.get(p) ?? []).toEqual(expected);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
