/**
 * A fault-injecting TCP proxy for the Raft links between brokers. Each broker advertises a proxy port as
 * its peer address (ADVERTISED_PEER), so every peer connection to it goes through here. The proxy reads
 * the first frame of a connection (the Hello of packages/broker's peer transport: `u32 length | u8 type |
 * JSON {from, to, ...}`) to learn which pair of brokers the connection links, then forwards bytes both
 * ways, applying the fault set on that pair:
 * - `drop`: connections are reset and new ones refused (a partition the OS reports: connection refused);
 * - `blackhole`: bytes stop flowing but connections stay open (packets silently lost; TCP buffers them
 *   and delivers them late when the link heals, like a real stalled connection);
 * - `delay`: every chunk arrives `ms` later (a slow link), in order.
 * One connection carries both directions of a pair, so faults are symmetric.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type LinkFault =
  { readonly kind: 'drop' } | { readonly kind: 'blackhole' } | { readonly kind: 'delay'; readonly ms: number };

/** The Hello frame's type byte (packages/broker/src/transport/frames.ts). */
const HELLO_FRAME = 1;
/** A Hello is small JSON; anything larger is not one. */
const MAX_HELLO_BYTES = 64 * 1024;

const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

interface Pipe {
  readonly pair: string;
  readonly client: Socket;
  readonly upstream: Socket;
  /** Chunks held back by a black hole, per direction, delivered on heal. */
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
  /** When the last delayed chunk of each direction is released (keeps delayed chunks in order). */
  releaseAt: { toUpstream: number; toClient: number };
}

export interface PeerProxyStats {
  readonly connections: number;
  readonly refused: number;
  readonly bytes: number;
}

export class PeerProxy {
  readonly #servers = new Map<string, Server>();
  readonly #targets = new Map<string, string>();
  readonly #faults = new Map<string, LinkFault>();
  readonly #pipes = new Set<Pipe>();
  readonly #pending = new Set<Socket>();
  #connections = 0;
  #refused = 0;
  #bytes = 0;
  #closed = false;

  /** Listens on a free port for the peer connections to `broker`; resolves with `127.0.0.1:<port>`. */
  async listen(broker: string): Promise<string> {
    const server = createServer((socket) => this.#accept(socket, broker));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#servers.set(broker, server);
    const a = server.address();
    return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  /** Where `broker` really listens for peers (host:port). Connections to it before this are refused. */
  setTarget(broker: string, address: string): void {
    this.#targets.set(broker, address);
  }

  /** Sets the fault on the link between two brokers (both directions). */
  setFault(a: string, b: string, fault: LinkFault): void {
    const key = pairKey(a, b);
    this.#faults.set(key, fault);
    for (const pipe of this.#pipes) if (pipe.pair === key && fault.kind === 'drop') this.#close(pipe);
  }

  /** Cuts every link between the two sides (each broker in `side` from each in `others`). */
  partition(side: readonly string[], others: readonly string[], fault: LinkFault = { kind: 'drop' }): void {
    for (const a of side) for (const b of others) if (a !== b) this.setFault(a, b, fault);
  }

  /** Clears every fault; held (black-holed) bytes flow again. */
  heal(): void {
    this.#faults.clear();
    for (const pipe of this.#pipes) {
      for (const chunk of pipe.held.toUpstream.splice(0)) this.#forward(pipe, 'toUpstream', chunk);
      for (const chunk of pipe.held.toClient.splice(0)) this.#forward(pipe, 'toClient', chunk);
    }
  }

  /** Current faults, as "a|b" -> fault. */
  faults(): Map<string, LinkFault> {
    return new Map(this.#faults);
  }

  stats(): PeerProxyStats {
    return { connections: this.#connections, refused: this.#refused, bytes: this.#bytes };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const pipe of this.#pipes) this.#close(pipe);
    for (const s of this.#pending) s.destroy();
    await Promise.all(
      [...this.#servers.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }

  #accept(client: Socket, broker: string): void {
    if (this.#closed) {
      client.destroy();
      return;
    }
    this.#pending.add(client);
    client.on('error', () => {});
    client.on('close', () => this.#pending.delete(client));
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.byteLength < 5) return;
      const length = buffered.readUInt32BE(0);
      if (buffered.readUInt8(4) !== HELLO_FRAME || length > MAX_HELLO_BYTES) {
        client.destroy();
        return;
      }
      if (buffered.byteLength < 4 + length) return;
      client.off('data', onData);
      client.pause();
      this.#pending.delete(client);
      let from = '';
      try {
        from = String((JSON.parse(buffered.subarray(5, 4 + length).toString('utf8')) as { from?: unknown }).from);
      } catch {
        client.destroy();
        return;
      }
      this.#open(client, from, broker, buffered);
    };
    client.on('data', onData);
  }

  #open(client: Socket, from: string, to: string, first: Buffer): void {
    const pair = pairKey(from, to);
    const target = this.#targets.get(to);
    if (!target || this.#faults.get(pair)?.kind === 'drop') {
      this.#refused++;
      client.destroy();
      return;
    }
    const i = target.lastIndexOf(':');
    const upstream = connect({ host: target.slice(0, i), port: Number(target.slice(i + 1)) });
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    const pipe: Pipe = {
      pair,
      client,
      upstream,
      held: { toUpstream: [], toClient: [] },
      releaseAt: { toUpstream: 0, toClient: 0 },
    };
    this.#pipes.add(pipe);
    this.#connections++;
    const end = (): void => this.#close(pipe);
    upstream.on('error', end);
    upstream.on('close', end);
    client.on('error', end);
    client.on('close', end);
    client.on('data', (chunk: Buffer) => this.#forward(pipe, 'toUpstream', chunk));
    upstream.on('data', (chunk: Buffer) => this.#forward(pipe, 'toClient', chunk));
    this.#forward(pipe, 'toUpstream', first);
    client.resume();
  }

  #forward(pipe: Pipe, direction: 'toUpstream' | 'toClient', chunk: Buffer): void {
    const fault = this.#faults.get(pipe.pair);
    if (fault?.kind === 'drop') {
      this.#close(pipe);
      return;
    }
    if (fault?.kind === 'blackhole') {
      pipe.held[direction].push(chunk);
      return;
    }
    const out = direction === 'toUpstream' ? pipe.upstream : pipe.client;
    const delay = fault?.kind === 'delay' ? fault.ms : 0;
    const now = Date.now();
    if (delay === 0 && pipe.releaseAt[direction] <= now) {
      this.#bytes += chunk.byteLength;
      out.write(chunk);
      return;
    }
    const at = Math.max(now + delay, pipe.releaseAt[direction]);
    pipe.releaseAt[direction] = at;
    setTimeout(() => {
      if (out.destroyed) return;
      this.#bytes += chunk.byteLength;
      out.write(chunk);
    }, at - now).unref();
  }

  #close(pipe: Pipe): void {
    if (!this.#pipes.delete(pipe)) return;
    pipe.client.destroy();
    pipe.upstream.destroy();
  }
}
