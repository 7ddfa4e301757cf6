/**
 * An in-process network for tests and benchmarks: every node gets a Transport from one MemoryNetwork.
 * Delivery is asynchronous (a microtask after send, in send order per link), messages go through the
 * wire codec by default (so tests exercise the real encoding and never share objects between nodes), and
 * links can be cut and healed to partition nodes. Nothing here is used in production.
 */
import { decodeMessage, encodeMessage } from '../codec.js';
import type { Transport } from '../transport.js';
import type { Message, NodeId } from '../types.js';

export interface MemoryNetworkOptions {
  /** Round-trip every message through encodeMessage/decodeMessage. Default true. */
  readonly encode?: boolean;
}

export class MemoryNetwork {
  readonly #encode: boolean;
  readonly #nodes = new Map<NodeId, MemoryTransport>();
  /** Cut links, as "from->to". */
  readonly #cut = new Set<string>();
  /** Messages delivered and dropped so far (tests assert on traffic). */
  delivered = 0;
  dropped = 0;
  bytes = 0;

  constructor(options: MemoryNetworkOptions = {}) {
    this.#encode = options.encode ?? true;
  }

  /** The transport of node `id` (replacing a previous one: a restarted node). */
  connect(id: NodeId): MemoryTransport {
    const transport = new MemoryTransport(id, this);
    this.#nodes.set(id, transport);
    return transport;
  }

  /** Cuts both directions between a and b. */
  disconnect(a: NodeId, b: NodeId): void {
    this.#cut.add(`${a}->${b}`);
    this.#cut.add(`${b}->${a}`);
  }

  /** Cuts `id` off from every other node. */
  isolate(id: NodeId): void {
    for (const other of this.#nodes.keys()) if (other !== id) this.disconnect(id, other);
  }

  /** Restores every link. */
  heal(): void {
    this.#cut.clear();
  }

  /** @internal Called by MemoryTransport.send. */
  route(messages: readonly Message[]): void {
    const batch: { to: MemoryTransport; message: Message }[] = [];
    for (const m of messages) {
      const to = this.#nodes.get(m.to);
      if (!to || to.closed || this.#cut.has(`${m.from}->${m.to}`)) {
        this.dropped++;
        continue;
      }
      if (this.#encode) {
        const wire = encodeMessage(m);
        this.bytes += wire.byteLength;
        batch.push({ to, message: decodeMessage(wire) });
      } else {
        batch.push({ to, message: m });
      }
    }
    if (batch.length === 0) return;
    queueMicrotask(() => {
      for (const { to, message } of batch) {
        if (to.closed || this.#nodes.get(message.to) !== to) {
          this.dropped++;
          continue;
        }
        this.delivered++;
        to.deliver(message);
      }
    });
  }
}

export class MemoryTransport implements Transport {
  readonly id: NodeId;
  readonly #network: MemoryNetwork;
  #handler: ((message: Message) => void) | undefined;
  closed = false;

  constructor(id: NodeId, network: MemoryNetwork) {
    this.id = id;
    this.#network = network;
  }

  send(messages: readonly Message[]): void {
    if (!this.closed) this.#network.route(messages);
  }

  onMessage(handler: (message: Message) => void): void {
    this.#handler = handler;
  }

  /** @internal */
  deliver(message: Message): void {
    this.#handler?.(message);
  }

  close(): void {
    this.closed = true;
  }
}
