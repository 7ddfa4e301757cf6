import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Sync: ends an extended-query sequence (Parse/Bind/Describe/Execute). */
const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4);

/**
 * A Postgres wire socket in front of PGlite, which has a single session: every connection shares it.
 *
 * Why not @electric-sql/pglite-socket's server: it interleaves the messages of different connections one
 * by one, so one connection's Bind can meet another's Parse ("bind message supplies 1 parameters, but
 * prepared statement requires 4"), and a failed message stops its queue for good. Here a connection owns
 * the session from its first message until PGlite is idle again after a Sync or a simple Query (outside
 * any transaction), so statements and transactions never interleave. A connection that closes while
 * owning the session has its half-sent statement synced and its transaction rolled back.
 */
export class PgliteWireServer {
  readonly #db: PGlite;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** The session lock: a chain of owners; each waits for the previous one to release. */
  #tail: Promise<void> = Promise.resolve();

  constructor(db: PGlite, options: { maxConnections?: number } = {}) {
    this.#db = db;
    this.#server = createServer((socket) => this.#serve(socket));
    this.#server.maxConnections = options.maxConnections ?? 100;
  }

  /** Listens on host:port (0: a free port); resolves with the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        const a = this.#server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await this.#tail;
  }

  /** Waits for the session; returns the function that hands it on. */
  #acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const previous = this.#tail;
    this.#tail = previous.then(() => released);
    return previous.then(() => release);
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    let buffer: Buffer = Buffer.alloc(0);
    let started = false;
    let release: (() => void) | undefined;
    let work: Promise<void> = Promise.resolve();
    let closed = false;

    const exec = async (message: Uint8Array, reply: boolean): Promise<void> => {
      await this.#db.runExclusive(() =>
        this.#db.execProtocolRawStream(message, {
          onRawData: (chunk) => void (reply && !closed && socket.write(chunk)),
        }),
      );
    };
    const handle = async (message: Uint8Array, type: number | 'startup'): Promise<void> => {
      if (closed) return;
      release ??= await this.#acquire();
      try {
        await exec(message, true);
      } finally {
        const boundary = type === 'startup' || type === 0x53 /* S */ || type === 0x51; /* Q */
        if (boundary && !this.#db.isInTransaction()) {
          release();
          release = undefined;
        }
      }
    };
    const cleanUp = async (): Promise<void> => {
      if (!release) return;
      try {
        await exec(SYNC, false);
        if (this.#db.isInTransaction()) await this.#db.exec('ROLLBACK');
      } finally {
        release();
        release = undefined;
      }
    };
    const enqueue = (fn: () => Promise<void>) => {
      work = work.then(fn).catch(() => void socket.destroy());
    };

    socket.on('data', (data: Buffer) => {
      buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          const code = buffer.readInt32BE(4);
          if (buffer.length < length) return;
          const message = buffer.subarray(0, length);
          buffer = buffer.subarray(length);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            socket.write('N');
            continue;
          }
          if (code === CANCEL_REQUEST) {
            socket.end();
            return;
          }
          started = true;
          const copy = Uint8Array.from(message);
          enqueue(() => handle(copy, 'startup'));
          continue;
        }
        if (buffer.length < 5) return;
        const type = buffer[0];
        const length = 1 + buffer.readInt32BE(1);
        if (buffer.length < length) return;
        const copy = Uint8Array.from(buffer.subarray(0, length));
        buffer = buffer.subarray(length);
        if (type === 0x58 /* X: Terminate */) {
          enqueue(async () => {
            await cleanUp();
            socket.end();
          });
          return;
        }
        enqueue(() => handle(copy, type));
      }
    });
    const onGone = () => {
      if (closed) return;
      closed = true;
      this.#sockets.delete(socket);
      work = work.then(cleanUp).catch(() => undefined);
    };
    socket.on('close', onGone);
    socket.on('error', onGone);
  }
}
