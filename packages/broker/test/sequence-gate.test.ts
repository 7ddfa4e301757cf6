import { describe, expect, it } from 'vitest';
import {
  MAX_TRACKED_PRODUCERS,
  SequenceGate,
  type GateOutcome,
  type GateTimers,
} from '../src/partition/sequence-gate.js';

/** Timers that fire only when the test says so (no real time passes in these tests). */
class ManualTimers implements GateTimers {
  now = 0;
  readonly #due = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  set(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#due.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(handle: unknown): void {
    this.#due.delete(handle as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.#due]) {
      if (t.at > this.now) continue;
      this.#due.delete(id);
      t.fn();
    }
  }
  get pending(): number {
    return this.#due.size;
  }
}

/** A gate over a fake applied state: producerId -> next sequence of its applied window. */
function setup(applied: Record<number, number> = {}) {
  const windows = new Map(Object.entries(applied).map(([k, v]) => [Number(k), v]));
  const timers = new ManualTimers();
  const gate = new SequenceGate((id) => windows.get(id), timers);
  const outcomes: [number, GateOutcome][] = [];
  /** Admits a batch; records the order in which parked batches leave the gate. */
  const admit = (id: number, seq: number, maxWaitMs = 500): boolean => {
    const p = gate.admit(id, seq, maxWaitMs);
    if (p) void p.then((o) => outcomes.push([seq, o]));
    return p !== undefined;
  };
  const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
  return { gate, timers, windows, outcomes, admit, flush };
}

describe('SequenceGate', () => {
  it('lets a batch at the expected sequence, or below it, through at once', () => {
    const { gate, admit } = setup({ 7: 100 });
    expect(admit(7, 100)).toBe(false);
    expect(admit(7, 40)).toBe(false); // a duplicate or stale batch: the state machine answers it
    expect(admit(8, 0)).toBe(false); // an unknown producer starting at 0
    expect(gate.size).toBe(0);
  });

  it('holds a batch that skips ahead until its predecessor is proposed, then lets successors go in order', async () => {
    const { gate, admit, outcomes, flush, timers } = setup({ 7: 100 });
    expect(admit(7, 200)).toBe(true);
    expect(admit(7, 150)).toBe(true);
    await flush();
    expect(outcomes).toEqual([]);
    gate.proposed(7, 100, 50);
    await flush();
    expect(outcomes).toEqual([[150, 'in-order']]);
    gate.proposed(7, 150, 50);
    await flush();
    expect(outcomes).toEqual([
      [150, 'in-order'],
      [200, 'in-order'],
    ]);
    expect(timers.pending).toBe(0);
    expect(gate.expected(7)).toBe(200); // the batch at 200 is let go but not proposed yet
  });

  it('expects 0 from a producer the partition does not know, and any start it proposes', async () => {
    const { gate, admit, outcomes, flush } = setup();
    expect(gate.expected(9)).toBeUndefined();
    expect(admit(9, 100)).toBe(true);
    gate.proposed(9, 0, 100);
    await flush();
    expect(outcomes).toEqual([[100, 'in-order']]);
    gate.proposed(9, 100, 50);
    expect(gate.expected(9)).toBe(150);
  });

  it('wakes a parked batch when the applied window catches up (a predecessor from an earlier term)', async () => {
    const { gate, admit, outcomes, flush, windows } = setup({ 7: 100 });
    expect(admit(7, 150)).toBe(true);
    gate.applied(7);
    await flush();
    expect(outcomes).toEqual([]);
    windows.set(7, 150);
    gate.applied(7);
    await flush();
    expect(outcomes).toEqual([[150, 'in-order']]);
    expect(gate.size).toBe(0);
  });

  it('lets a batch go after its wait when the predecessor never comes, without moving the expected sequence', async () => {
    const { gate, admit, outcomes, flush, timers } = setup({ 7: 100 });
    expect(admit(7, 150, 500)).toBe(true);
    timers.advance(499);
    await flush();
    expect(outcomes).toEqual([]);
    timers.advance(1);
    await flush();
    expect(outcomes).toEqual([[150, 'timeout']]);
    gate.proposed(7, 150, 50); // proposed out of order: the state machine will reject it
    expect(gate.expected(7)).toBe(100);
    expect(gate.size).toBe(0);
  });

  it('does not wait at all when the allowed wait is 0', () => {
    const { gate, admit } = setup({ 7: 100 });
    expect(admit(7, 150, 0)).toBe(false);
    expect(gate.size).toBe(0);
  });

  it('releases every parked batch on leadership loss and forgets what it proposed', async () => {
    const { gate, admit, outcomes, flush, timers } = setup({ 7: 100 });
    gate.proposed(7, 100, 50);
    expect(admit(7, 200)).toBe(true);
    expect(admit(8, 5)).toBe(true);
    gate.release();
    await flush();
    expect(outcomes.sort((a, b) => a[0] - b[0])).toEqual([
      [5, 'released'],
      [200, 'released'],
    ]);
    expect(timers.pending).toBe(0);
    expect(gate.size).toBe(0);
    expect(gate.expected(7)).toBe(100); // back to the applied window
  });

  it('drops a producer once the applied window covers what was proposed and nothing is parked', () => {
    const { gate, windows } = setup({ 7: 100 });
    gate.proposed(7, 100, 50);
    gate.proposed(7, 150, 50);
    expect(gate.size).toBe(1);
    windows.set(7, 150);
    gate.applied(7);
    expect(gate.size).toBe(1);
    expect(gate.expected(7)).toBe(200);
    windows.set(7, 200);
    gate.applied(7);
    expect(gate.size).toBe(0);
    expect(gate.expected(7)).toBe(200);
  });

  it('keeps at most MAX_TRACKED_PRODUCERS idle producers', () => {
    const { gate } = setup();
    for (let id = 1; id <= MAX_TRACKED_PRODUCERS + 10; id++) gate.proposed(id, 0, 1);
    expect(gate.size).toBeLessThanOrEqual(MAX_TRACKED_PRODUCERS);
  });
});
