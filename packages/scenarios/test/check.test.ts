/** The checker must pass a faithful run and catch every kind of wrong delivery. */
import { describe, expect, it } from 'vitest';
import { checkScenario, type ScenarioData } from '../src/check.js';
import { tagMessage } from '../src/message-tag.js';
import type { RecordLine } from '../src/record-file.js';
import type { ScenarioSpec } from '../src/scenario-spec.js';

const spec: ScenarioSpec = {
  name: 's',
  description: 'two producers, two topics, two consumers',
  topics: ['T1', 'T2'],
  producers: { P1: ['T1', 'T2'], P2: ['T1'] },
  consumers: { C1: ['T1', 'T2'], C2: ['T1'] },
};
const line = (n: number, topic: number) => `21:52:23\tINFO\t\tP1-${n}\t\tT-${topic}`;
const logs = new Map([
  ['P1', [line(1, 1), line(2, 2), line(3, 1), line(4, 3), line(5, 1)]],
  ['P2', [line(1, 1), line(2, 2), line(3, 1)]],
]);
const topicName = (t: string) => `s.${t}`;

/** What a correct run logs: two partitions for T1, filled round-robin in send order. */
function faithfulRun(): ScenarioData {
  const next = new Map<string, number>();
  let rr = 0;
  const acked = new Map<string, RecordLine[]>();
  const stored: RecordLine[] = [];
  for (const [producer, topics] of Object.entries(spec.producers)) {
    const out: RecordLine[] = [];
    logs.get(producer)!.forEach((l, i) => {
      const topic = `T${l.at(-1)}`;
      if (!topics.includes(topic)) return;
      const partition = topic === 'T1' ? rr++ % 2 : 0;
      const key = `${topic}/${partition}`;
      const offset = next.get(key) ?? 0;
      next.set(key, offset + 1);
      const r = { topic: topicName(topic), partition, offset, message: tagMessage(producer, i + 1, l) };
      out.push(r);
      stored.push(r);
    });
    acked.set(producer, out);
  }
  const received = new Map(
    Object.entries(spec.consumers).map(([c, topics]) => [
      c,
      stored.filter((r) => topics.map(topicName).includes(r.topic)),
    ]),
  );
  return { spec, topicName, logs, acked, received };
}

function withReceived(data: ScenarioData, consumer: string, edit: (rs: RecordLine[]) => RecordLine[]): ScenarioData {
  const received = new Map(data.received);
  received.set(consumer, edit([...data.received.get(consumer)!]));
  return { ...data, received };
}

describe('checkScenario', () => {
  it('passes a faithful run and counts what each client saw', () => {
    const check = checkScenario(faithfulRun());
    expect(check.problems).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.producers.map((p) => [p.producer, p.expected, p.skipped, p.acked])).toEqual([
      ['P1', 4, 1, 4],
      ['P2', 2, 1, 2],
    ]);
    expect(check.consumers.map((c) => [c.consumer, c.topic, c.expected, c.received, c.partitions])).toEqual([
      ['C1', 'T1', 5, 5, 2],
      ['C1', 'T2', 1, 1, 1],
      ['C2', 'T1', 5, 5, 2],
    ]);
  });

  it('catches a missing message', () => {
    const check = checkScenario(withReceived(faithfulRun(), 'C2', (rs) => rs.slice(1)));
    expect(check.ok).toBe(false);
    expect(check.consumers.find((c) => c.consumer === 'C2')!.missing).toBe(1);
  });

  it('catches a message delivered twice', () => {
    const check = checkScenario(withReceived(faithfulRun(), 'C1', (rs) => [...rs, rs[0]]));
    expect(check.ok).toBe(false);
    expect(check.consumers.find((c) => c.consumer === 'C1' && c.topic === 'T1')!.duplicates).toBe(1);
  });

  it('catches a message stored twice (at a second offset)', () => {
    const check = checkScenario(withReceived(faithfulRun(), 'C2', (rs) => [...rs, { ...rs[0], offset: 99 }]));
    expect(check.consumers.find((c) => c.consumer === 'C2')!.duplicates).toBe(1);
    expect(check.ok).toBe(false);
  });

  it('catches records out of partition order', () => {
    const check = checkScenario(
      withReceived(faithfulRun(), 'C2', (rs) => {
        const p0 = rs.map((r, i) => [r, i] as const).filter(([r]) => r.partition === 0);
        const [a, b] = [p0[0][1], p0[1][1]];
        [rs[a], rs[b]] = [rs[b], rs[a]];
        return rs;
      }),
    );
    expect(check.ok).toBe(false);
    expect(check.consumers.find((c) => c.consumer === 'C2')!.outOfOrder).toBeGreaterThan(0);
  });

  it('catches a consumer that read something else at an acknowledged offset', () => {
    const check = checkScenario(
      withReceived(faithfulRun(), 'C2', (rs) => {
        const [a, b] = [rs[0], rs[1]];
        rs[0] = { ...a, message: b.message };
        rs[1] = { ...b, message: a.message };
        return rs;
      }),
    );
    expect(check.ok).toBe(false);
    expect(check.consumers.find((c) => c.consumer === 'C2')!.mismatched).toBe(2);
  });

  it('catches records of a topic the consumer is not registered for, and unacknowledged sends', () => {
    const data = faithfulRun();
    const t2 = data.received.get('C1')!.find((r) => r.topic === 's.T2')!;
    const acked = new Map(data.acked);
    acked.set('P2', acked.get('P2')!.slice(1));
    const check = checkScenario({ ...withReceived(data, 'C2', (rs) => [...rs, t2]), acked });
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toMatch(/C2: 1 records of topics it is not registered for/);
    expect(check.producers.find((p) => p.producer === 'P2')!.missing).toBe(1);
  });
});
