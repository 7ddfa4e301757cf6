/**
 * Where the driver's logical time comes from. Raft counts time in ticks (election timeouts, heartbeats);
 * production ticks from a timer, tests and the simulator tick by hand so time is virtual.
 */
export interface Ticker {
  /** Starts calling `onTick` once per tick. */
  start(onTick: () => void): void;
  stop(): void;
}

/** Default tick length: 100 ms, so the default election timeout (10 ticks) is 1-2 s. */
export const DEFAULT_TICK_MS = 100;

/** A Ticker on setInterval; the timer does not keep the process alive. */
export function intervalTicker(ms: number = DEFAULT_TICK_MS): Ticker {
  let timer: NodeJS.Timeout | undefined;
  return {
    start(onTick) {
      if (timer) clearInterval(timer);
      timer = setInterval(onTick, ms);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** A Ticker advanced by hand: `ticker.tick(10)` is ten ticks, now. */
export class ManualTicker implements Ticker {
  #onTick: (() => void) | undefined;

  start(onTick: () => void): void {
    this.#onTick = onTick;
  }

  stop(): void {
    this.#onTick = undefined;
  }

  tick(count = 1): void {
    for (let i = 0; i < count; i++) this.#onTick?.();
  }
}
