/**
 * 100-byte message bodies. A latency run stamps the scheduled send time (performance.now(), ms) at the
 * front so a consumer in the same process can compute produce -> consume latency; the rest is padding.
 */
export const MESSAGE_BYTES = 100;

const PAD = 'x'.repeat(MESSAGE_BYTES);

export function fixedValue(): string {
  return PAD;
}

export function stampedValue(scheduledAt: number): string {
  const stamp = `${scheduledAt.toFixed(3)}|`;
  return stamp + PAD.slice(stamp.length);
}

/** The scheduled send time from a stamped value, or NaN. */
export function readStamp(value: string): number {
  const bar = value.indexOf('|');
  return bar > 0 ? Number(value.slice(0, bar)) : NaN;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function toBytes(value: string): Uint8Array {
  return encoder.encode(value);
}

export function fromBytes(data: Uint8Array): string {
  return decoder.decode(data);
}
