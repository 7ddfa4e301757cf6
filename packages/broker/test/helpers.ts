import { encodeProduce } from '../src/partition/commands.js';

/** A produce command of `n` records "<prefix>-<i>". */
export function produceCmd(
  n: number,
  opts: { producerId?: number; sequence?: number; prefix?: string; timestamp?: number } = {},
): Uint8Array {
  const records = Array.from({ length: n }, (_, i) => ({ value: `${opts.prefix ?? 'm'}-${i}` }));
  return encodeProduce({
    timestamp: opts.timestamp ?? 1_700_000_000_000,
    producerId: opts.producerId ?? 0,
    sequence: opts.sequence ?? 0,
    count: n,
    records: Buffer.from(JSON.stringify(records)),
  });
}
