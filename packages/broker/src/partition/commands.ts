/**
 * The commands a partition replicates: each is the data of one Raft entry. A small binary header (so
 * apply never parses JSON to route a command) followed, for produce, by the records as JSON exactly as
 * they are stored and served (`mq_batches.data` is a copy of these bytes).
 *
 *   produce:  u8 1 | u8 flags(1 = idempotent) | f64 timestamp | f64 producerId | f64 sequence | u32 count | records JSON
 *   commit:   u8 2 | f64 consumerId | f64 offset                       (set a consumer's position)
 *   advance:  u8 3 | f64 consumerId | f64 from | f64 to                (consume-next: move from -> to if still at from)
 *
 * Integers are carried as float64: every id, sequence and offset is a safe integer by the API schema.
 */
export const enum CommandKind {
  Produce = 1,
  Commit = 2,
  Advance = 3,
}

export interface ProduceCommand {
  readonly kind: CommandKind.Produce;
  readonly timestamp: number;
  /** 0 when the producer is not idempotent. */
  readonly producerId: number;
  readonly sequence: number;
  readonly count: number;
  /** The records as a JSON array (UTF-8). */
  readonly records: Uint8Array;
}

export interface CommitCommand {
  readonly kind: CommandKind.Commit;
  readonly consumerId: number;
  readonly offset: number;
}

export interface AdvanceCommand {
  readonly kind: CommandKind.Advance;
  readonly consumerId: number;
  readonly from: number;
  readonly to: number;
}

export type Command = ProduceCommand | CommitCommand | AdvanceCommand;

const PRODUCE_HEADER = 1 + 1 + 8 + 8 + 8 + 4;

export function encodeProduce(c: Omit<ProduceCommand, 'kind'>): Uint8Array {
  const out = new Uint8Array(PRODUCE_HEADER + c.records.byteLength);
  const view = new DataView(out.buffer);
  out[0] = CommandKind.Produce;
  out[1] = c.producerId > 0 ? 1 : 0;
  view.setFloat64(2, c.timestamp);
  view.setFloat64(10, c.producerId);
  view.setFloat64(18, c.sequence);
  view.setUint32(26, c.count);
  out.set(c.records, PRODUCE_HEADER);
  return out;
}

export function encodeCommit(consumerId: number, offset: number): Uint8Array {
  const out = new Uint8Array(17);
  const view = new DataView(out.buffer);
  out[0] = CommandKind.Commit;
  view.setFloat64(1, consumerId);
  view.setFloat64(9, offset);
  return out;
}

export function encodeAdvance(consumerId: number, from: number, to: number): Uint8Array {
  const out = new Uint8Array(25);
  const view = new DataView(out.buffer);
  out[0] = CommandKind.Advance;
  view.setFloat64(1, consumerId);
  view.setFloat64(9, from);
  view.setFloat64(17, to);
  return out;
}

export class CommandDecodeError extends Error {
  override readonly name = 'CommandDecodeError';
}

/** Decodes an entry's data; `records` is a view into `data` (no copy). */
export function decodeCommand(data: Uint8Array): Command {
  if (data.byteLength < 1) throw new CommandDecodeError('empty command');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (data[0] as CommandKind) {
    case CommandKind.Produce: {
      if (data.byteLength < PRODUCE_HEADER) throw new CommandDecodeError('short produce command');
      return {
        kind: CommandKind.Produce,
        timestamp: view.getFloat64(2),
        producerId: data[1] & 1 ? view.getFloat64(10) : 0,
        sequence: view.getFloat64(18),
        count: view.getUint32(26),
        records: data.subarray(PRODUCE_HEADER),
      };
    }
    case CommandKind.Commit:
      if (data.byteLength !== 17) throw new CommandDecodeError('bad commit command');
      return { kind: CommandKind.Commit, consumerId: view.getFloat64(1), offset: view.getFloat64(9) };
    case CommandKind.Advance:
      if (data.byteLength !== 25) throw new CommandDecodeError('bad advance command');
      return {
        kind: CommandKind.Advance,
        consumerId: view.getFloat64(1),
        from: view.getFloat64(9),
        to: view.getFloat64(17),
      };
    default:
      throw new CommandDecodeError(`unknown command kind ${data[0]}`);
  }
}
