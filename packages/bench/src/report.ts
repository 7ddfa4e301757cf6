/** The results table (markdown, printed and written to docs/benchmarks.md between markers). */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Latency, Percentiles, SystemResults, Throughput } from './results.js';

export const START_MARKER = '<!-- pnpm-bench:start -->';
export const END_MARKER = '<!-- pnpm-bench:end -->';

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US').replace(/,/g, ' ') : '-');
const ms = (n: number) => (!Number.isFinite(n) ? '-' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));

function tput(t: Throughput | undefined): string {
  if (!t) return '-';
  const fail = t.failures > 0 ? `, ${int(t.failures)} failed` : '';
  return `${int(t.msgPerSec)} msg/s (${t.mbPerSec.toFixed(2)} MB/s${fail})`;
}

function pct(p: Percentiles | undefined): string {
  return p ? `${ms(p.p50)} / ${ms(p.p99)} / ${ms(p.p999)}` : '-';
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '-';
  return `${(a / b).toFixed(2)}x`;
}

interface Row {
  readonly label: string;
  readonly cell: (r: SystemResults) => string;
  /** The number the ratio column divides (myqueue by the first NATS system). */
  readonly value: (r: SystemResults) => number | undefined;
}

const lat = (r: SystemResults, rate: number): Latency | undefined => r.latency.find((l) => l.targetRate === rate);

function rows(rates: readonly number[]): Row[] {
  const out: Row[] = [
    { label: 'W1 produce, 1 producer', cell: (r) => tput(r.produce1), value: (r) => r.produce1?.msgPerSec },
    { label: 'W1 produce, 4 producers', cell: (r) => tput(r.produce4), value: (r) => r.produce4?.msgPerSec },
    { label: 'W2 consume from offset 0', cell: (r) => tput(r.consume), value: (r) => r.consume?.msgPerSec },
  ];
  for (const rate of rates) {
    out.push(
      {
        label: `W3 ${int(rate)} msg/s: achieved rate`,
        cell: (r) => (lat(r, rate) ? `${int(lat(r, rate)!.achievedRate)} msg/s` : '-'),
        value: (r) => lat(r, rate)?.achievedRate,
      },
      {
        label: `W3 ${int(rate)} msg/s: produce->ack p50 / p99 / p99.9 ms (p99 of each round)`,
        cell: (r) => {
          const l = lat(r, rate);
          return l ? `${pct(l.ack)} (${l.roundsAckP99.map(ms).join(', ')})` : '-';
        },
        value: (r) => lat(r, rate)?.ack.p99,
      },
      {
        label: `W3 ${int(rate)} msg/s: produce->consume p50 / p99 / p99.9 ms`,
        cell: (r) => pct(lat(r, rate)?.endToEnd),
        value: (r) => lat(r, rate)?.endToEnd.p99,
      },
    );
  }
  out.push({
    label: 'W4 failover after kill -9 of the leader, median ms (rounds)',
    cell: (r) => (r.failover ? `${ms(r.failover.medianMs)} (${r.failover.roundsMs.map(ms).join(', ')})` : '-'),
    value: (r) => r.failover?.medianMs,
  });
  return out;
}

/** A markdown table: one column per system and the ratio myqueue / NATS R3 (latency ratios compare p99). */
export function table(results: readonly SystemResults[], rates: readonly number[]): string {
  const mq = results.find((r) => r.name.startsWith('myqueue'));
  const nats = results.find((r) => r.name === 'NATS R3');
  const header = ['workload', ...results.map((r) => r.name), ...(mq && nats ? ['myqueue / NATS R3'] : [])];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows(rates)) {
    const cells = [row.label, ...results.map(row.cell)];
    if (mq && nats) cells.push(ratio(row.value(mq), row.value(nats)));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.name}: ${n}`));
  return [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** Replaces the text between the markers in `file` (appending a section with them if absent). */
export function writeSection(file: string, body: string, heading: string): void {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '# Benchmarks\n';
  }
  const block = `${START_MARKER}\n${body.trim()}\n${END_MARKER}`;
  const start = text.indexOf(START_MARKER);
  const end = text.indexOf(END_MARKER);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + block + text.slice(end + END_MARKER.length)
      : `${text.trimEnd()}\n\n${heading}\n\n${block}\n`;
  writeFileSync(file, next);
}
