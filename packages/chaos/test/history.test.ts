/** The history file: what HistoryWriter writes, readHistory reads back, line for line. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { HistoryWriter, readHistory } from '../src/history.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('writes operations as JSON lines and reads them back in order, across read chunks', async () => {
  dir = mkdtempSync(join(tmpdir(), 'chaos-history-'));
  const h = new HistoryWriter(join(dir, 'history.jsonl'));
  // ~20 MB: more than one 8 MiB read chunk, with multi-byte characters in the errors.
  for (let i = 0; i < 100_000; i++) {
    h.write({ process: 'p1', type: 'invoke', f: 'send', value: { id: `p1-${i}`, partition: i % 3 } });
    h.write({
      process: 'p1',
      type: 'info',
      f: 'send',
      value: { id: `p1-${i}`, partition: i % 3 },
      error: `é ${'x'.repeat(60)}`,
    });
  }
  expect(h.count).toBe(200_000);
  await h.close();
  const ops = readHistory(join(dir, 'history.jsonl'));
  expect(ops).toHaveLength(200_000);
  expect(ops[199_999]).toMatchObject({ process: 'p1', type: 'info', value: { id: 'p1-99999', partition: 0 } });
  expect(ops.every((op) => op.error === undefined || op.error.startsWith('é '))).toBe(true);
  expect(ops.every((op, i) => i === 0 || op.t >= ops[i - 1].t)).toBe(true);
});
