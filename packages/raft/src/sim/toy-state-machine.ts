import type { Entry } from '../types.js';
import { EntryType } from '../types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Client values are unique ids ("v17"), optionally followed by "|" and padding to make entries bigger
 * (the MIT "RPC bytes" test sends 5000-byte commands).
 */
export function encodeValue(id: string, padding = 0): Uint8Array {
  return encoder.encode(padding > 0 ? `${id}|${'x'.repeat(padding)}` : id);
}

export function decodeValue(data: Uint8Array): string {
  const text = decoder.decode(data);
  const bar = text.indexOf('|');
  return bar < 0 ? text : text.slice(0, bar);
}

/** A short stable fingerprint of an entry (FNV-1a over type and data) for comparing entries cheaply. */
export function entryHash(e: Pick<Entry, 'type' | 'data'>): number {
  let h = 0x811c9dc5 ^ e.type;
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < e.data.length; i++) {
    h = Math.imul(h ^ (e.data[i]), 0x01000193);
  }
  return h >>> 0;
}

/**
 * Each simulated node's application: the ordered list of client values it applied. Its snapshot is the
 * serialized list, so an installed snapshot can be compared with what every other node applied.
 */
export class ToyStateMachine {
  readonly values: string[];
  readonly #set: Set<string>;
  /** Index of the last entry applied (or covered by the installed snapshot). */
  applied: number;

  constructor(applied = 0, values: string[] = []) {
    this.applied = applied;
    this.values = values;
    this.#set = new Set(values);
  }

  static restore(index: number, data: Uint8Array): ToyStateMachine {
    if (data.length === 0) return new ToyStateMachine(index, []);
    const parsed = JSON.parse(decoder.decode(data)) as { values: string[] };
    return new ToyStateMachine(index, parsed.values);
  }

  apply(entry: Entry): void {
    this.applied = entry.index;
    if (entry.type === EntryType.Normal && entry.data.length > 0) {
      const value = decodeValue(entry.data);
      this.values.push(value);
      this.#set.add(value);
    }
  }

  has(value: string): boolean {
    return this.#set.has(value);
  }

  serialize(): Uint8Array {
    return encoder.encode(JSON.stringify({ values: this.values }));
  }
}
