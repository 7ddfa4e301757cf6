/** Latency recording with HdrHistogram (microsecond resolution, up to 10 minutes, 3 significant digits). */
import { build, type Histogram } from 'hdr-histogram-js';
import type { Percentiles } from './results.js';

export function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

/** Records a latency given in milliseconds. */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

/** p50/p99/p99.9 in milliseconds (NaN when nothing was recorded). */
export function percentiles(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { p50: NaN, p99: NaN, p999: NaN };
  const at = (p: number) => h.getValueAtPercentile(p) / 1000;
  return { p50: at(50), p99: at(99), p999: at(99.9) };
}
