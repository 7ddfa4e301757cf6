import type { Logger } from '@myqueue/raft';
import { request } from 'undici';
import type { HealthEntry } from './raft-host/partition-replica.js';

export interface ManagerClientOptions {
  /** The manager's URL, or several separated by commas (primary and replicas): tried in turn on failure. */
  readonly managerUrl: string;
  readonly clusterToken: string;
  readonly broker: { readonly id: string; readonly url: string; readonly peer: string };
  /** Heartbeat interval, ms. */
  readonly intervalMs: number;
  /** The health entries to report (hosted partitions with role, leader, term...). */
  readonly partitions: () => HealthEntry[];
  readonly logger: Logger;
  /** Per-request timeout, ms. Default 2 000. */
  readonly timeoutMs?: number;
}

/**
 * The broker's only link to the manager: register once (`POST /v1/brokers/register {id,url,peer}`), then
 * heartbeat (`POST /v1/brokers/heartbeat {id, partitions}`) with the cluster token. A manager that is
 * down or answers errors is logged (once per outage) and retried on the next beat; the broker never
 * depends on it to serve. A heartbeat answered 404 (the manager forgot us) registers again.
 */
export class ManagerClient {
  readonly #o: ManagerClientOptions;
  #timer: NodeJS.Timeout | undefined;
  #registered = false;
  #failing = false;
  #inFlight: Promise<void> | undefined;
  readonly #urls: string[];
  #current = 0;

  constructor(options: ManagerClientOptions) {
    this.#o = options;
    this.#urls = options.managerUrl
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u.length > 0);
  }

  /** The manager this client talks to now. */
  get managerUrl(): string {
    return this.#urls[this.#current] ?? this.#o.managerUrl;
  }

  start(): void {
    const beat = (): void => {
      if (this.#inFlight) return;
      this.#inFlight = this.#beat().finally(() => (this.#inFlight = undefined));
    };
    beat();
    this.#timer = setInterval(beat, this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
  }

  async #beat(): Promise<void> {
    try {
      if (!this.#registered) {
        await this.#post('/v1/brokers/register', this.#o.broker);
        this.#registered = true;
        this.#o.logger.info({ manager: this.managerUrl }, 'registered with the manager');
      }
      const status = await this.#post('/v1/brokers/heartbeat', {
        id: this.#o.broker.id,
        partitions: this.#o.partitions(),
      });
      if (status === 404) this.#registered = false;
      if (this.#failing) this.#o.logger.info({ manager: this.managerUrl }, 'manager reachable again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing)
        this.#o.logger.warn(
          { err: (err as Error).message, manager: this.managerUrl },
          'manager unreachable; will keep trying',
        );
      this.#failing = true;
      // With several managers listed, the next beat tries the next one (a replica forwards to the primary).
      this.#current = (this.#current + 1) % Math.max(1, this.#urls.length);
    }
  }

  async #post(path: string, body: unknown): Promise<number> {
    const res = await request(new URL(path, this.managerUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#o.clusterToken}` },
      body: JSON.stringify(body),
      headersTimeout: this.#o.timeoutMs ?? 2_000,
      bodyTimeout: this.#o.timeoutMs ?? 2_000,
    });
    await res.body.dump();
    if (res.statusCode >= 500 || (res.statusCode >= 400 && res.statusCode !== 404))
      throw new Error(`${path} answered HTTP ${res.statusCode}`);
    return res.statusCode;
  }
}
