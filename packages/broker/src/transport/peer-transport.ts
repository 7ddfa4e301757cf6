import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Logger, Message, NodeId, Transport } from '@myqueue/raft';
import { FrameReader, FrameType, encodeFrame } from './frames.js';
import { makeHello, makeWelcome, verifyHello, verifyWelcome, type Hello, type Welcome } from './handshake.js';
import { SendQueue } from './send-queue.js';

/** How Raft messages become bytes; @myqueue/raft's encodeMessage/decodeMessage in production. */
export interface MessageCodec {
  encode(message: Message): Uint8Array;
  decode(bytes: Uint8Array): Message;
}

export interface PeerTransportOptions {
  /** This broker's id. */
  readonly id: NodeId;
  /** Address to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** host:port other brokers dial to reach this one. Default `${host}:${actual port}`. */
  readonly advertise?: string;
  /** Shared secret proven (HMAC) in the handshake of every link. */
  readonly token: string;
  readonly codec: MessageCodec;
  readonly logger: Logger;
  /** Outgoing queue bound per peer, in messages. Default 10 000. */
  readonly maxQueueMessages?: number;
  /** Outgoing queue bound per peer, in bytes (estimated). Default 64 MiB. */
  readonly maxQueueBytes?: number;
  /** Largest frame accepted from a peer. Default 64 MiB. */
  readonly maxFrameBytes?: number;
  /** Stop writing to a socket while this many bytes wait in its buffer (resume on drain). Default 4 MiB. */
  readonly socketHighWaterBytes?: number;
  /** Reconnect backoff, doubling from min to max with jitter. Defaults 50 ms and 2 s. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Time allowed for a handshake. Default 5 s. */
  readonly handshakeTimeoutMs?: number;
}

export const DEFAULT_PEER_TRANSPORT = {
  host: '127.0.0.1',
  maxQueueMessages: 10_000,
  maxQueueBytes: 64 << 20,
  maxFrameBytes: 64 << 20,
  socketHighWaterBytes: 4 << 20,
  reconnectMinMs: 50,
  reconnectMaxMs: 2_000,
  handshakeTimeoutMs: 5_000,
} as const;

type ResolvedOptions = Required<Omit<PeerTransportOptions, 'advertise'>> & { advertise: string | undefined };

/** A simultaneous dial from both ends is settled in favour of the smaller id's link for this long. */
const RACE_WINDOW_MS = 2_000;

interface Conn {
  readonly socket: Socket;
  /** Who dialed this connection. */
  readonly dialer: NodeId;
  establishedAt: number;
}

interface Link {
  readonly peer: NodeId;
  address: string | undefined;
  readonly queue: SendQueue;
  active: Conn | undefined;
  dialing: Socket | undefined;
  backoffMs: number;
  retryTimer: NodeJS.Timeout | undefined;
  flushScheduled: boolean;
  sent: number;
  received: number;
}

export interface PeerLinkStats {
  readonly peer: NodeId;
  readonly address: string | undefined;
  readonly connected: boolean;
  readonly queued: number;
  readonly dropped: number;
  readonly coalesced: number;
  readonly sent: number;
  readonly received: number;
}

/**
 * The Raft transport between brokers: one long-lived TCP connection per pair of brokers carries the
 * messages of every group (each message names its group). Frames are length-prefixed; a handshake
 * proves both ends hold the cluster token. Links reconnect with backoff; each has a bounded queue that
 * coalesces heartbeats and drops the oldest messages when the peer cannot keep up (Raft re-sends).
 * When both ends dial at once, the connection dialed by the smaller id wins.
 */
export class PeerTransport implements Transport {
  readonly #o: ResolvedOptions;
  readonly #links = new Map<NodeId, Link>();
  readonly #pending = new Set<Socket>();
  #server: Server | undefined;
  #handler: (m: Message) => void = () => {};
  #address = '';
  #closed = false;

  constructor(options: PeerTransportOptions) {
    this.#o = { ...DEFAULT_PEER_TRANSPORT, ...options, advertise: options.advertise };
  }

  get id(): NodeId {
    return this.#o.id;
  }

  /** The host:port peers dial (known after start()). */
  get address(): string {
    return this.#address;
  }

  /** Starts listening; resolves with the port. */
  async start(): Promise<number> {
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#o.logger.error({ err }, 'peer listener error'));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.#o.port;
    this.#address = this.#o.advertise ?? `${this.#o.host}:${port}`;
    return port;
  }

  onMessage(handler: (message: Message) => void): void {
    this.#handler = handler;
  }

  setPeer(node: NodeId, address: string): void {
    if (node === this.#o.id) return;
    const link = this.#link(node);
    if (link.address === address) return;
    link.address = address;
    link.backoffMs = 0;
    if (link.queue.length > 0) this.#scheduleFlush(link);
  }

  removePeer(node: NodeId): void {
    const link = this.#links.get(node);
    if (!link) return;
    this.#links.delete(node);
    clearTimeout(link.retryTimer);
    link.dialing?.destroy();
    link.active?.socket.destroy();
    link.queue.clear();
  }

  send(messages: readonly Message[]): void {
    if (this.#closed) return;
    for (const m of messages) {
      if (m.to === this.#o.id) {
        this.#deliver(m);
        continue;
      }
      const link = this.#link(m.to);
      link.queue.push(m);
      this.#scheduleFlush(link);
    }
  }

  /**
   * Writes every queued message to its socket now instead of at the end of this event-loop turn (the
   * Raft driver uses it to get a leader's appends on the wire before it blocks on its own fsync).
   */
  flushNow(): void {
    for (const link of this.#links.values()) if (link.queue.length > 0) this.#flush(link);
  }

  isConnected(node: NodeId): boolean {
    return this.#links.get(node)?.active !== undefined;
  }

  stats(): PeerLinkStats[] {
    return [...this.#links.values()].map((l) => ({
      peer: l.peer,
      address: l.address,
      connected: l.active !== undefined,
      queued: l.queue.length,
      dropped: l.queue.dropped,
      coalesced: l.queue.coalesced,
      sent: l.sent,
      received: l.received,
    }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const link of this.#links.values()) {
      clearTimeout(link.retryTimer);
      link.dialing?.destroy();
      link.active?.socket.destroy();
      link.queue.clear();
    }
    for (const s of this.#pending) s.destroy();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #link(peer: NodeId): Link {
    let link = this.#links.get(peer);
    if (!link) {
      link = {
        peer,
        address: undefined,
        queue: new SendQueue({ maxMessages: this.#o.maxQueueMessages, maxBytes: this.#o.maxQueueBytes }),
        active: undefined,
        dialing: undefined,
        backoffMs: 0,
        retryTimer: undefined,
        flushScheduled: false,
        sent: 0,
        received: 0,
      };
      this.#links.set(peer, link);
    }
    return link;
  }

  #deliver(m: Message): void {
    try {
      this.#handler(m);
    } catch (err) {
      this.#o.logger.error({ err, group: m.group, from: m.from }, 'raft message handler failed');
    }
  }

  #scheduleFlush(link: Link): void {
    if (link.flushScheduled) return;
    link.flushScheduled = true;
    // One flush per event-loop turn: everything the Raft driver sent in this cycle leaves in one write.
    setImmediate(() => {
      link.flushScheduled = false;
      this.#flush(link);
    });
  }

  #flush(link: Link): void {
    if (this.#closed || link.queue.length === 0) return;
    const conn = link.active;
    if (!conn) {
      this.#dial(link);
      return;
    }
    const socket = conn.socket;
    if (socket.writableNeedDrain) return; // resumed by 'drain'
    socket.cork();
    while (link.queue.length > 0 && socket.writableLength < this.#o.socketHighWaterBytes) {
      const m = link.queue.shift()!;
      let bytes: Uint8Array;
      try {
        bytes = this.#o.codec.encode(m);
      } catch (err) {
        this.#o.logger.error({ err, group: m.group, type: m.type }, 'cannot encode raft message; dropped');
        continue;
      }
      socket.write(encodeFrame(FrameType.Raft, bytes));
      link.sent++;
    }
    socket.uncork();
    if (link.queue.length > 0 && !socket.writableNeedDrain) this.#scheduleFlush(link);
  }

  #dial(link: Link): void {
    if (link.dialing || link.retryTimer || !link.address || this.#closed) return;
    const [host, portText] = splitAddress(link.address);
    const socket = connect({ host, port: Number(portText) });
    socket.setNoDelay(true);
    link.dialing = socket;
    const hello = makeHello(this.#o.token, this.#o.id, link.peer, this.#address);
    const reader = new FrameReader(this.#o.maxFrameBytes);
    const timer = setTimeout(() => socket.destroy(new Error('handshake timeout')), this.#o.handshakeTimeoutMs);
    let established = false;
    socket.once('connect', () => socket.write(encodeFrame(FrameType.Hello, Buffer.from(JSON.stringify(hello)))));
    const onData = (chunk: Buffer): void => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      if (established) return; // later frames are handled by the established listener
      const first = frames.shift();
      if (!first) return;
      const welcome = first.type === FrameType.Welcome ? (parseJson(first.payload) as Partial<Welcome>) : {};
      if (!verifyWelcome(this.#o.token, hello, welcome)) {
        this.#o.logger.warn({ peer: link.peer }, 'peer handshake refused (token, version or id mismatch)');
        socket.destroy();
        return;
      }
      established = true;
      clearTimeout(timer);
      socket.off('data', onData);
      link.dialing = undefined;
      this.#establish(link, { socket, dialer: this.#o.id, establishedAt: Date.now() }, reader, frames);
    };
    socket.on('data', onData);
    socket.on('error', (err) => this.#o.logger.debug({ err: err.message, peer: link.peer }, 'peer dial error'));
    socket.on('close', () => {
      clearTimeout(timer);
      if (!established) {
        if (link.dialing === socket) link.dialing = undefined;
        this.#retryLater(link);
      }
    });
  }

  #retryLater(link: Link): void {
    if (this.#closed || link.retryTimer || this.#links.get(link.peer) !== link) return;
    const base = link.backoffMs === 0 ? this.#o.reconnectMinMs : Math.min(link.backoffMs * 2, this.#o.reconnectMaxMs);
    link.backoffMs = base;
    const delay = base / 2 + Math.random() * (base / 2);
    link.retryTimer = setTimeout(() => {
      link.retryTimer = undefined;
      if (!link.active && link.queue.length > 0) this.#dial(link);
    }, delay);
    link.retryTimer.unref();
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.#pending.add(socket);
    const reader = new FrameReader(this.#o.maxFrameBytes);
    const timer = setTimeout(() => socket.destroy(), this.#o.handshakeTimeoutMs);
    let done = false;
    const onData = (chunk: Buffer): void => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      if (done) return;
      const first = frames.shift();
      if (!first) return;
      const hello = first.type === FrameType.Hello ? (parseJson(first.payload) as Partial<Hello>) : {};
      if (!verifyHello(this.#o.token, this.#o.id, hello) || hello.from === this.#o.id) {
        this.#o.logger.warn({ remote: socket.remoteAddress }, 'peer handshake refused (token, version or id mismatch)');
        socket.destroy();
        return;
      }
      const link = this.#link(hello.from);
      if (!this.#wantsInbound(link)) {
        socket.destroy(); // refused before any Raft frame flowed on it, so nothing is lost
        return;
      }
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      this.#pending.delete(socket);
      if (link.dialing) {
        link.dialing.destroy();
        link.dialing = undefined;
      }
      socket.write(encodeFrame(FrameType.Welcome, Buffer.from(JSON.stringify(makeWelcome(this.#o.token, hello)))));
      if (!link.address && hello.address) link.address = hello.address;
      this.#establish(link, { socket, dialer: hello.from, establishedAt: Date.now() }, reader, frames);
    };
    socket.on('data', onData);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      this.#pending.delete(socket);
    });
  }

  /**
   * Whether to take a connection the peer dialed. When both ends dial at once, the smaller id's
   * connection wins: the smaller end refuses the peer's dial while its own is in progress or was
   * established moments ago. Otherwise the newest connection wins (the peer restarted or lost its link).
   */
  #wantsInbound(link: Link): boolean {
    if (this.#o.id > link.peer) return true;
    if (link.dialing) return false;
    const a = link.active;
    return !(a && a.dialer === this.#o.id && Date.now() - a.establishedAt < RACE_WINDOW_MS);
  }

  #establish(link: Link, conn: Conn, reader: FrameReader, early: { type: FrameType; payload: Buffer }[]): void {
    const current = link.active;
    if (current) {
      link.active = undefined;
      current.socket.destroy();
    }
    link.active = conn;
    link.backoffMs = 0;
    clearTimeout(link.retryTimer);
    link.retryTimer = undefined;
    this.#o.logger.info({ peer: link.peer, dialer: conn.dialer }, 'peer link up');
    const { socket } = conn;
    const onFrames = (frames: { type: FrameType; payload: Buffer }[]): void => {
      for (const f of frames) {
        if (f.type !== FrameType.Raft) continue;
        let m: Message;
        try {
          m = this.#o.codec.decode(f.payload);
        } catch (err) {
          this.#o.logger.warn({ err, peer: link.peer }, 'undecodable raft frame; closing link');
          socket.destroy();
          return;
        }
        if (m.from !== link.peer || m.to !== this.#o.id) continue;
        link.received++;
        this.#deliver(m);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        onFrames(reader.push(chunk));
      } catch {
        socket.destroy();
      }
    });
    socket.on('drain', () => this.#scheduleFlush(link));
    socket.on('close', () => {
      if (link.active !== conn) return;
      link.active = undefined;
      this.#o.logger.info({ peer: link.peer }, 'peer link down');
      if (link.queue.length > 0) this.#retryLater(link);
    });
    onFrames(early);
    this.#scheduleFlush(link);
  }
}

function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return i < 0 ? [address, ''] : [address.slice(0, i), address.slice(i + 1)];
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return {};
  }
}
