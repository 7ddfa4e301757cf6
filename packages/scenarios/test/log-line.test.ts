import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLogLine, parseLogLine } from '../src/log-line.js';
import { parseTag, tagMessage } from '../src/message-tag.js';
import { formatRecord, parseRecord } from '../src/record-file.js';
import { readLogLines } from '../src/scenario-producer.js';
import { TESTDATA_DIR } from '../src/run-scenario.js';

describe('the original log format', () => {
  it('parses every line of the five files, with the topic counts their README states', () => {
    const counts: Record<string, number[]> = {};
    for (let i = 1; i <= 5; i++) {
      const lines = readLogLines(`${TESTDATA_DIR}producer_${i}.txt`);
      expect(lines).toHaveLength(993);
      const perTopic = [0, 0, 0];
      for (const line of lines) {
        const l = parseLogLine(line);
        perTopic[l.topic - 1]++;
        expect(formatLogLine(l)).toBe(line);
      }
      counts[`P${i}`] = perTopic;
    }
    expect(counts).toEqual({
      P1: [331, 331, 331],
      P2: [497, 0, 496],
      P3: [993, 0, 0],
      P4: [0, 993, 0],
      P5: [0, 993, 0],
    });
  });

  it('rejects lines of another shape', () => {
    expect(() => parseLogLine('21:52:23 INFO P1-1 T-1')).toThrow(/not a log line/);
    expect(() => parseLogLine('21:52:23\tINFO\t\tP1-1')).toThrow(/not a log line/);
  });

  it('round-trips lines, tags and record lines', () => {
    const arb = fc.record({
      time: fc.constantFrom('00:00:00', '21:52:23'),
      level: fc.constantFrom('INFO', 'DEBUG', 'ERROR'),
      id: fc.tuple(fc.nat(99), fc.nat(9999)).map(([p, n]) => `P${p}-${n}`),
      topic: fc.integer({ min: 1, max: 99 }),
    });
    fc.assert(
      fc.property(arb, fc.nat(99), fc.nat(100_000), fc.nat(9), fc.nat(1e6), (l, p, lineNo, partition, offset) => {
        const line = formatLogLine(l);
        expect(parseLogLine(line)).toEqual(l);
        const message = tagMessage(`P${p}`, lineNo, line);
        expect(parseTag(message)).toEqual({ producer: `P${p}`, lineNo, line });
        const r = { topic: 's.T1', partition, offset, message };
        expect(parseRecord(formatRecord(r))).toEqual(r);
      }),
    );
  });
});
