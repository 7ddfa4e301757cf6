/**
 * Keeps a registered producer or consumer alive in the manager's eyes: a heartbeat every interval the
 * manager asks for (its answer carries `heartbeatIntervalMs`). Failures are logged and retried next tick;
 * the timer never keeps the process alive.
 */
import type { ClientKind } from '@myqueue/protocol';
import type { Logger } from './logger.js';
import type { ManagerClient } from './manager-client.js';

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000;

export class Heartbeater {
  readonly #manager: ManagerClient;
  readonly #logger: Logger;
  readonly #kind: ClientKind;
  #id: number;
  #intervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(manager: ManagerClient, logger: Logger, kind: ClientKind, id: number) {
    this.#manager = manager;
    this.#logger = logger;
    this.#kind = kind;
    this.#id = id;
    this.#schedule(0);
  }

  /** Heartbeats for another id from now on (a producer that took a new id). */
  set id(id: number) {
    this.#id = id;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#beat(), ms);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    try {
      const res = await this.#manager.heartbeat(
        { kind: this.#kind, id: this.#id },
        { signal: this.#abort.signal, timeoutMs: this.#intervalMs },
      );
      if (res.heartbeatIntervalMs > 0) this.#intervalMs = res.heartbeatIntervalMs;
    } catch (e) {
      if (!this.#stopped)
        this.#logger.warn({ err: e, kind: this.#kind, id: this.#id }, 'heartbeat to the manager failed');
    }
    this.#schedule(this.#intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort(new Error('heartbeater stopped'));
  }
}
