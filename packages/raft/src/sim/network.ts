import type { Message, NodeId } from '../types.js';
import { MessageType } from '../types.js';
import type { Prng } from './prng.js';

/** How the simulated network misbehaves. Delays are in virtual milliseconds. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice (the copy gets its own delay). */
  readonly duplicateRate: number;
  /** Normal one-way delay range; random delays reorder messages. */
  readonly minDelay: number;
  readonly maxDelay: number;
  /** Probability of a long delay (a message overtaken by many later ones), up to `longDelayMax`. */
  readonly longDelayRate: number;
  readonly longDelayMax: number;
}

/** A LAN: no loss, no duplicates, 1-3 ms (still reordering a little). */
export const RELIABLE_NETWORK: NetworkFaults = Object.freeze({
  dropRate: 0,
  duplicateRate: 0,
  minDelay: 1,
  maxDelay: 3,
  longDelayRate: 0,
  longDelayMax: 0,
});

/** The MIT lab's "unreliable" network: 10% loss, duplicates, and long delays that reorder messages. */
export const UNRELIABLE_NETWORK: NetworkFaults = Object.freeze({
  dropRate: 0.1,
  duplicateRate: 0.05,
  minDelay: 1,
  maxDelay: 27,
  longDelayRate: 0.05,
  longDelayMax: 200,
});

export interface Delivery {
  readonly at: number;
  readonly message: Message;
}

/** Traffic counters, per message type, for tests such as "RPC bytes" and "count". */
export interface TrafficStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Bytes of entry data carried by App messages (the MIT "RPC bytes" measure). */
  entryBytes: number;
  byType: Partial<Record<MessageType, number>>;
}

/**
 * The simulated network: per directed link it can be cut (partitions, symmetric or not); every message
 * draws its fate (drop, duplicate, delay) from the simulator's PRNG. A message is lost if its link is cut
 * when it is sent or when it would arrive.
 */
export class SimNetwork {
  readonly #rng: Prng;
  #faults: NetworkFaults = RELIABLE_NETWORK;
  readonly #cut = new Set<string>();
  readonly stats: TrafficStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, entryBytes: 0, byType: {} };

  constructor(rng: Prng) {
    this.#rng = rng;
  }

  get faults(): NetworkFaults {
    return this.#faults;
  }

  setFaults(faults: NetworkFaults): void {
    this.#faults = faults;
  }

  /** Whether `from` can currently reach `to`. */
  linked(from: NodeId, to: NodeId): boolean {
    return !this.#cut.has(link(from, to));
  }

  cut(from: NodeId, to: NodeId): void {
    this.#cut.add(link(from, to));
  }

  mend(from: NodeId, to: NodeId): void {
    this.#cut.delete(link(from, to));
  }

  /** Cuts every link between the two sides, both ways. */
  partition(sideA: readonly NodeId[], sideB: readonly NodeId[]): void {
    for (const a of sideA) {
      for (const b of sideB) {
        this.cut(a, b);
        this.cut(b, a);
      }
    }
  }

  /** MIT's disconnect(i): `node` neither sends to nor hears from anyone in `others`. */
  isolate(node: NodeId, others: readonly NodeId[]): void {
    this.partition([node], others.filter((o) => o !== node));
  }

  /** Undoes every cut. */
  heal(): void {
    this.#cut.clear();
  }

  get cuts(): number {
    return this.#cut.size;
  }

  describeCuts(): string {
    return [...this.#cut].sort().join(' ');
  }

  /** Decides the fate of one message sent at `now`: zero, one or two deliveries. */
  send(message: Message, now: number): Delivery[] {
    const s = this.stats;
    s.sent++;
    s.byType[message.type] = (s.byType[message.type] ?? 0) + 1;
    if (message.type === MessageType.App && message.entries) {
      for (const e of message.entries) s.entryBytes += e.data.length;
    }
    const f = this.#faults;
    // Draw every random choice whether or not the link is cut, so cutting a link does not shift the
    // random stream of unrelated events.
    const drop = this.#rng.chance(f.dropRate);
    const dup = this.#rng.chance(f.duplicateRate);
    const d1 = this.#delay();
    const d2 = this.#delay();
    if (!this.linked(message.from, message.to) || drop) {
      s.dropped++;
      return [];
    }
    const out: Delivery[] = [{ at: now + d1, message }];
    if (dup) {
      s.duplicated++;
      out.push({ at: now + d2, message });
    }
    return out;
  }

  /** Called when a delivery comes due; false if the link was cut meanwhile. */
  arrives(message: Message): boolean {
    if (!this.linked(message.from, message.to)) {
      this.stats.dropped++;
      return false;
    }
    this.stats.delivered++;
    return true;
  }

  #delay(): number {
    const f = this.#faults;
    const long = this.#rng.chance(f.longDelayRate);
    const normal = this.#rng.between(f.minDelay, f.maxDelay);
    return long ? normal + this.#rng.between(0, f.longDelayMax) : normal;
  }
}

function link(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}
