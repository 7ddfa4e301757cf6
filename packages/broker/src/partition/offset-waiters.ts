/**
 * Long-poll support: fetches waiting for records at an offset not yet written. The state machine calls
 * notify() after applying; waiters are resolved in a microtask, i.e. after the storage transaction that
 * applied the records has committed. No timers run unless someone waits.
 */
export class OffsetWaiters {
  readonly #waiters = new Set<{ offset: number; resolve: () => void }>();

  /** Resolves once the end offset exceeds `offset`, or after `timeoutMs`, or when `signal` aborts. */
  wait(offset: number, timeoutMs: number, current: () => number, signal?: AbortSignal): Promise<void> {
    if (current() > offset || timeoutMs <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(waiter);
        resolve();
      };
      const waiter = { offset, resolve: done };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(waiter);
    });
  }

  notify(endOffset: number): void {
    if (this.#waiters.size === 0) return;
    queueMicrotask(() => {
      for (const w of [...this.#waiters]) if (endOffset > w.offset) w.resolve();
    });
  }

  /** Wakes every waiter (shutdown, replica dropped, leadership lost). */
  wakeAll(): void {
    for (const w of [...this.#waiters]) w.resolve();
  }

  get size(): number {
    return this.#waiters.size;
  }
}
