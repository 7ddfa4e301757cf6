/**
 * The consumer's async iterator, apart from the consumer (which provides the hooks) so its protocol can be
 * tested alone: open once on the first next(), hand out records, close once on end, failure or return().
 */
export interface ReaderHooks<T> {
  /** Starts an iteration: false when it ends at once (stopped while connecting); nothing to close then. */
  open(): Promise<boolean>;
  /** Ends an iteration that was opened. */
  close(): void;
  /**
   * Marks the previous record processed, then returns the next record: undefined when none is buffered,
   * null when the iteration is over. Throws the consumer's failure.
   */
  poll(): T | undefined | null;
  /** Resolves when records (or a failure, or stop) may have arrived. */
  wait(): Promise<void>;
}

/**
 * One iteration over a consumer. next() answers straight from the buffer when it can; otherwise (first
 * call, empty buffer) it goes the slow way, and calls made meanwhile queue behind it, as with a generator.
 */
export class MessageIterator<T> implements AsyncIterator<T, void, undefined> {
  readonly #hooks: ReaderHooks<T>;
  #state: 'new' | 'open' | 'done' = 'new';
  #pending: Promise<unknown> | undefined;

  constructor(hooks: ReaderHooks<T>) {
    this.#hooks = hooks;
  }

  next(): Promise<IteratorResult<T, void>> {
    if (this.#state === 'open' && this.#pending === undefined) {
      let m: T | undefined | null;
      try {
        m = this.#hooks.poll();
      } catch (e) {
        this.#finish();
        return rejected(e);
      }
      if (m === null) return Promise.resolve(this.#finish());
      if (m !== undefined) return Promise.resolve({ done: false, value: m });
    }
    const run = (this.#pending ?? Promise.resolve()).then(
      () => this.#slow(),
      () => this.#slow(),
    );
    const clear = () => {
      if (this.#pending === run) this.#pending = undefined;
    };
    this.#pending = run;
    void run.then(clear, clear);
    return run;
  }

  return(): Promise<IteratorResult<T, void>> {
    return Promise.resolve(this.#finish());
  }

  throw(e?: unknown): Promise<IteratorResult<T, void>> {
    this.#finish();
    return rejected(e);
  }

  async #slow(): Promise<IteratorResult<T, void>> {
    if (this.#state === 'new') {
      let open: boolean;
      try {
        open = await this.#hooks.open();
      } catch (e) {
        this.#state = 'done';
        throw e;
      }
      if (!open) this.#state = 'done';
      if (this.#state === 'done') {
        // Ended (return()) while opening: close what was just opened.
        if (open) this.#hooks.close();
        return { done: true, value: undefined };
      }
      this.#state = 'open';
    }
    for (;;) {
      if (this.#state === 'done') return { done: true, value: undefined };
      let m: T | undefined | null;
      try {
        m = this.#hooks.poll();
      } catch (e) {
        this.#finish();
        throw e;
      }
      if (m === null) return this.#finish();
      if (m !== undefined) return { done: false, value: m };
      await this.#hooks.wait();
    }
  }

  #finish(): IteratorResult<T, void> {
    if (this.#state === 'open') this.#hooks.close();
    this.#state = 'done';
    return { done: true, value: undefined };
  }
}

/** A promise rejected with `e` (the consumer's failure, or what the caller threw in; an Error either way). */
function rejected(e: unknown): Promise<never> {
  return Promise.reject(e instanceof Error ? e : new Error(String(e)));
}
