/** The checker on hand-made histories: a clean one passes, and each kind of violation is caught. */
import { describe, expect, it } from 'vitest';
import { check, VIOLATION_KINDS, type PartitionLogs, type StoredRecord, type ViolationKind } from '../src/checker.js';
import type { Op } from '../src/history.js';

let clock = 0;
const invoke = (process: string, id: string, partition = 0): Op => ({
  t: clock++,
  process,
  type: 'invoke',
  f: 'send',
  value: { id, partition },
});
const ok = (process: string, id: string, offset: number, partition = 0): Op => ({
  t: clock++,
  process,
  type: 'ok',
  f: 'send',
  value: { id, partition, offset },
});
const done = (type: 'fail' | 'info', process: string, id: string, partition = 0): Op => ({
  t: clock++,
  process,
  type,
  f: 'send',
  value: { id, partition },
  error: 'MQ_ERR_TIMEOUT',
});
const read = (process: string, id: string, offset: number, partition = 0): Op => ({
  t: clock++,
  process,
  type: 'ok',
  f: 'read',
  value: { partition, offset, id },
});
const log = (...values: string[]): StoredRecord[] => values.map((value, offset) => ({ offset, value }));
const replicated = (partition: number, records: StoredRecord[]): PartitionLogs => ({
  partition,
  replicas: { b1: records, b2: records, b3: records },
});

/** A clean run: p1 sends a, b (acked), c (unknown outcome, stored); c1 reads a, b, c. */
function cleanHistory(): Op[] {
  return [
    invoke('p1', 'a'),
    ok('p1', 'a', 0),
    invoke('p1', 'b'),
    invoke('p1', 'c'),
    ok('p1', 'b', 1),
    done('info', 'p1', 'c'),
    { t: clock++, process: 'nemesis', type: 'info', f: 'kill', value: 'b1' },
    read('c1', 'a', 0),
    read('c1', 'b', 1),
    read('c1', 'c', 2),
  ];
}

function only(report: ReturnType<typeof check>, kind: ViolationKind, count = 1): void {
  expect(report.valid).toBe(false);
  for (const k of VIOLATION_KINDS) expect(report.violationCounts[k], k).toBe(k === kind ? count : 0);
  expect(report.violations.filter((v) => v.kind === kind)).toHaveLength(count);
}

describe('checker', () => {
  it('passes a clean history and counts an unknown-outcome message that appeared', () => {
    const report = check(cleanHistory(), [replicated(0, log('a', 'b', 'c'))]);
    expect(report.valid).toBe(true);
    expect(report.violations).toEqual([]);
    expect(report.counts).toEqual({
      sends: 3,
      acked: 2,
      failed: 0,
      unknown: 1,
      unknownPresent: 1,
      reads: 3,
      records: 3,
      laggingReplicas: 0,
      faults: 1,
    });
  });

  it('an unknown-outcome message that did not appear is fine too, and a pending send counts as unknown', () => {
    const history = [...cleanHistory().slice(0, 6), invoke('p2', 'd')];
    const report = check(history, [replicated(0, log('a', 'b'))]);
    expect(report.valid).toBe(true);
    expect(report.counts.unknown).toBe(2);
    expect(report.counts.unknownPresent).toBe(0);
  });

  it('finds an acknowledged message that is lost', () => {
    const report = check(cleanHistory().slice(0, 6), [replicated(0, log('a', 'c'))]);
    only(report, 'lost');
    expect(report.violations[0].message).toContain('b acknowledged at offset 1');
  });

  it('finds an acknowledged message stored at another offset than acknowledged', () => {
    const report = check(cleanHistory().slice(0, 6), [replicated(0, log('a', 'c', 'b'))]);
    only(report, 'wrong-offset');
  });

  it('finds a duplicate, once per duplicated message, also across partitions', () => {
    const h = cleanHistory().slice(0, 6);
    only(check(h, [replicated(0, log('a', 'b', 'c', 'b'))]), 'duplicate');
    only(check(h, [replicated(0, log('a', 'b', 'c')), replicated(1, log('c'))]), 'duplicate');
  });

  it('finds two replicas holding different messages at one offset', () => {
    const report = check(cleanHistory().slice(0, 6), [
      { partition: 0, replicas: { b1: log('a', 'b', 'c'), b2: log('a', 'b', 'x'), b3: log('a', 'b', 'c') } },
    ]);
    // x is also a message nobody sent; the divergence is what matters here.
    expect(report.violationCounts.divergent).toBe(1);
    expect(report.violations.find((v) => v.kind === 'divergent')?.message).toBe('offset 2: b1 has c, b2 has x');
  });

  it('finds offsets that are not contiguous on a replica', () => {
    const holey: StoredRecord[] = [
      { offset: 0, value: 'a' },
      { offset: 1, value: 'b' },
      { offset: 3, value: 'c' },
    ];
    const report = check(cleanHistory().slice(0, 6), [
      { partition: 0, replicas: { b1: holey, b2: log('a', 'b'), b3: log('a', 'b') } },
    ]);
    only(report, 'gap');
    expect(report.counts.laggingReplicas).toBe(2);
  });

  it('counts a replica that lags behind without calling it a violation', () => {
    const report = check(cleanHistory().slice(0, 6), [
      { partition: 0, replicas: { b1: log('a', 'b', 'c'), b2: log('a', 'b', 'c'), b3: log('a') } },
    ]);
    expect(report.valid).toBe(true);
    expect(report.counts.laggingReplicas).toBe(1);
  });

  it('finds a consumer that skipped an offset', () => {
    const h = cleanHistory().filter((op) => !(op.f === 'read' && (op.value as { offset: number }).offset === 1));
    only(check(h, [replicated(0, log('a', 'b', 'c'))]), 'consumer-skip');
  });

  it('finds a consumer that went back', () => {
    const h = [...cleanHistory(), read('c1', 'b', 1)];
    only(check(h, [replicated(0, log('a', 'b', 'c'))]), 'consumer-back');
  });

  it('keeps consumers and partitions apart', () => {
    const h = [...cleanHistory(), read('c2', 'a', 0), invoke('p1', 'd', 1), ok('p1', 'd', 0, 1), read('c1', 'd', 0, 1)];
    expect(check(h, [replicated(0, log('a', 'b', 'c')), replicated(1, log('d'))]).valid).toBe(true);
  });

  it('finds a consumer that read a message the final log does not hold there', () => {
    const h = [...cleanHistory().slice(0, 6), read('c1', 'a', 0), read('c1', 'c', 1)];
    only(check(h, [replicated(0, log('a', 'b', 'c'))]), 'bad-read');
  });

  it('finds a message stored although its send certainly failed', () => {
    const h = [...cleanHistory().slice(0, 6), invoke('p2', 'd'), done('fail', 'p2', 'd')];
    only(check(h, [replicated(0, log('a', 'b', 'c', 'd'))]), 'failed-present');
  });

  it('finds acknowledged messages of one producer stored out of its send order, per partition', () => {
    const history = [
      invoke('p1', 'a'),
      invoke('p1', 'b'),
      invoke('p1', 'x', 1),
      invoke('p2', 'c'),
      ok('p1', 'b', 0),
      ok('p2', 'c', 1),
      ok('p1', 'a', 2),
      ok('p1', 'x', 0, 1),
    ];
    const report = check(history, [replicated(0, log('b', 'c', 'a')), replicated(1, log('x'))]);
    only(report, 'reorder');
    expect(report.violations[0].message).toContain('sent a before b');
  });

  it('finds a message nobody sent', () => {
    only(check(cleanHistory().slice(0, 6), [replicated(0, log('a', 'b', 'c', 'zz'))]), 'phantom');
  });

  it('keeps at most 20 examples per kind but counts them all', () => {
    const h: Op[] = [];
    for (let i = 0; i < 30; i++) h.push(invoke('p1', `m${i}`), ok('p1', `m${i}`, i));
    const report = check(h, [replicated(0, [])]);
    expect(report.violationCounts.lost).toBe(30);
    expect(report.violations).toHaveLength(20);
  });
});
