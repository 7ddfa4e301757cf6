/**
 * The nemesis: injects one fault per round, holds it, heals it, lets the cluster recover. Faults prefer
 * partition leaders as victims, since that is where acknowledged data is most at risk. Every fault and
 * heal is recorded in the history. `healAll()` undoes whatever is still in force (the final heal).
 */
import type { ChaosCluster } from './chaos-cluster.js';
import type { HistoryWriter } from './history.js';

export const FAULTS = [
  'kill-leader',
  'kill-majority',
  'kill-all',
  'pause-leader',
  'isolate-leader',
  'blackhole-leader',
  'split',
  'slow-links',
  'kill-manager',
  'pause-manager',
] as const;
export type FaultName = (typeof FAULTS)[number];

export interface NemesisOptions {
  readonly topic: string;
  readonly faults: readonly FaultName[];
  readonly random: () => number;
  /** How long a fault is held, ms. */
  readonly faultMs: number;
  /** Quiet time after a heal, ms. */
  readonly recoverMs: number;
  readonly onEvent?: (line: string) => void;
}

/** Sleeps `ms`, or less if `signal` aborts first. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

export class Nemesis {
  readonly #dead = new Set<string>();
  readonly #paused = new Set<number>();
  #managerDead = false;
  rounds = 0;
  readonly counts = new Map<FaultName, number>();

  constructor(
    readonly cluster: ChaosCluster,
    readonly history: HistoryWriter,
    readonly o: NemesisOptions,
  ) {}

  #deck: FaultName[] = [];

  /** The next fault: every fault of the menu once, in a random order, then again (covers the menu fast). */
  #nextFault(): FaultName {
    if (this.#deck.length === 0) this.#deck = this.#shuffle(this.o.faults);
    return this.#deck.pop()!;
  }

  #shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.o.random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  #record(f: string, value: unknown): void {
    this.history.write({ process: 'nemesis', type: 'info', f, value });
    this.o.onEvent?.(`${f} ${JSON.stringify(value)}`);
  }

  /** Runs rounds until `signal` aborts; the fault in force when it aborts is healed. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const fault = this.#nextFault();
      this.rounds++;
      this.counts.set(fault, (this.counts.get(fault) ?? 0) + 1);
      try {
        const heal = await this.#inject(fault);
        await sleep(this.o.faultMs, signal);
        await heal();
      } catch (e) {
        this.#record('nemesis-error', { fault, error: String(e) });
        await this.healAll();
      }
      await sleep(this.o.recoverMs, signal);
    }
  }

  /** Injects a fault; resolves to the function that heals it. */
  async #inject(fault: FaultName): Promise<() => Promise<void>> {
    const { cluster } = this;
    const ids = cluster.brokerIds;
    switch (fault) {
      case 'kill-leader': {
        const [victim] = await cluster.leadersFirst(this.o.topic);
        await this.#kill(victim);
        return () => this.#restart(victim);
      }
      case 'kill-majority': {
        const [leader, ...rest] = await cluster.leadersFirst(this.o.topic);
        const victims = [leader, ...this.#shuffle(rest).slice(0, Math.floor(ids.length / 2))];
        for (const v of victims) await this.#kill(v);
        return async () => {
          await Promise.all(victims.map((v) => this.#restart(v)));
        };
      }
      case 'kill-all': {
        // A power cut of every broker at once: they all come back from what their disks hold.
        await Promise.all(ids.map((id) => this.#kill(id)));
        return async () => {
          await Promise.all(ids.map((id) => this.#restart(id)));
        };
      }
      case 'pause-leader': {
        const [victim] = await cluster.leadersFirst(this.o.topic);
        const pid = cluster.pidOf(victim);
        if (pid === undefined) throw new Error(`${victim} is not running`);
        process.kill(pid, 'SIGSTOP');
        this.#paused.add(pid);
        this.#record('pause', { broker: victim });
        return () => {
          this.#resume(pid);
          this.#record('resume', { broker: victim });
          return Promise.resolve();
        };
      }
      case 'isolate-leader':
      case 'blackhole-leader': {
        const [victim] = await cluster.leadersFirst(this.o.topic);
        const kind = fault === 'isolate-leader' ? 'drop' : 'blackhole';
        cluster.proxy.partition([victim], ids, { kind });
        this.#record('partition', { side: [victim], kind });
        return () => this.#healLinks();
      }
      case 'split': {
        const shuffled = this.#shuffle(ids);
        const side = shuffled.slice(0, Math.floor(ids.length / 2));
        const other = shuffled.slice(side.length);
        cluster.proxy.partition(side, other, { kind: 'drop' });
        this.#record('partition', { side, other, kind: 'drop' });
        return () => this.#healLinks();
      }
      case 'slow-links': {
        const ms = 50 + Math.floor(this.o.random() * 250);
        cluster.proxy.partition(ids, ids, { kind: 'delay', ms });
        this.#record('slow', { ms });
        return () => this.#healLinks();
      }
      case 'kill-manager': {
        await cluster.cluster.killManager('manager', 'SIGKILL');
        this.#managerDead = true;
        this.#record('kill', { process: 'manager' });
        return () => this.#restartManager();
      }
      case 'pause-manager': {
        const pid = cluster.cluster.managers[0]?.pid;
        if (pid === undefined) throw new Error('the manager is not running');
        process.kill(pid, 'SIGSTOP');
        this.#paused.add(pid);
        this.#record('pause', { process: 'manager' });
        return () => {
          this.#resume(pid);
          this.#record('resume', { process: 'manager' });
          return Promise.resolve();
        };
      }
    }
  }

  async #kill(id: string): Promise<void> {
    await this.cluster.cluster.killBroker(id, 'SIGKILL');
    this.#dead.add(id);
    this.#record('kill', { broker: id });
  }

  async #restart(id: string): Promise<void> {
    await this.cluster.cluster.startBroker(id);
    this.#dead.delete(id);
    this.#record('start', { broker: id });
  }

  async #restartManager(): Promise<void> {
    await this.cluster.cluster.startManager('manager');
    this.#managerDead = false;
    this.#record('start', { process: 'manager' });
  }

  #resume(pid: number): void {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
    this.#paused.delete(pid);
  }

  #healLinks(): Promise<void> {
    this.cluster.proxy.heal();
    this.#record('heal', { links: 'all' });
    return Promise.resolve();
  }

  /** Undoes every fault still in force: resumes paused processes, restarts dead ones, heals the links. */
  async healAll(): Promise<void> {
    for (const pid of [...this.#paused]) this.#resume(pid);
    this.cluster.proxy.heal();
    if (this.#managerDead) await this.#restartManager();
    await Promise.all([...this.#dead].map((id) => this.#restart(id)));
    this.#record('heal-all', {});
  }
}
