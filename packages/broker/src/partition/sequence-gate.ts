/**
 * Leader-side reordering of a partition's idempotent produce requests. A client keeps several batches
 * per partition in flight over different HTTP connections, so a batch can reach the leader before its
 * predecessor; proposed first, it would be rejected at apply (MQ_ERR_OUT_OF_ORDER_SEQUENCE) and cost the
 * client a retry. The gate holds such a batch back until its predecessor was proposed (or applied), for
 * a bounded time, then lets it go anyway: it only reorders; the state machine alone stores or rejects.
 * Leader-only memory, dropped on leadership loss (release()). Timers are injected for deterministic tests.
 */

/** Producers tracked with nothing parked beyond which idle entries are dropped (they only hold hints). */
export const MAX_TRACKED_PRODUCERS = 10_000;

export interface GateTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: GateTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Why a parked batch was let go: its turn came, the gate timed out, or the leader stepped down. */
export type GateOutcome = 'in-order' | 'timeout' | 'released';

interface Parked {
  readonly sequence: number;
  readonly resolve: (o: GateOutcome) => void;
  readonly timer: unknown;
}

interface ProducerState {
  /** Sequence after the last batch proposed in order by this leader; undefined: none yet. */
  proposedNext: number | undefined;
  readonly parked: Set<Parked>;
}

export class SequenceGate {
  readonly #appliedNext: (producerId: number) => number | undefined;
  readonly #timers: GateTimers;
  readonly #producers = new Map<number, ProducerState>();

  /**
   * @param appliedNext the sequence the applied window expects next for a producer (last.sequence +
   *   last.count), undefined for a producer the partition has never stored.
   */
  constructor(appliedNext: (producerId: number) => number | undefined, timers: GateTimers = realTimers) {
    this.#appliedNext = appliedNext;
    this.#timers = timers;
  }

  /** Producers with state (parked batches or an in-order proposal not yet applied). */
  get size(): number {
    return this.#producers.size;
  }

  /**
   * The sequence a producer's next batch should carry: the larger of what this leader proposed and what
   * is applied; undefined if neither knows the producer (it may start at any sequence).
   */
  expected(producerId: number): number | undefined {
    const applied = this.#appliedNext(producerId);
    const proposed = this.#producers.get(producerId)?.proposedNext;
    if (applied === undefined) return proposed;
    return proposed === undefined ? applied : Math.max(applied, proposed);
  }

  /**
   * Undefined when the batch may be proposed now (its sequence is the expected one, or below it:
   * duplicates and stale batches are the state machine's to answer). Otherwise a promise that resolves
   * once the expected sequence reaches it, after `maxWaitMs`, or when the gate is released. A producer
   * the partition does not know is expected at 0 (clients start there), so its batch that skips ahead
   * waits for a possible batch 0 in flight, at most `maxWaitMs`.
   */
  admit(producerId: number, sequence: number, maxWaitMs: number): Promise<GateOutcome> | undefined {
    if (sequence <= (this.expected(producerId) ?? 0) || maxWaitMs <= 0) return undefined;
    let state = this.#producers.get(producerId);
    if (!state) this.#producers.set(producerId, (state = { proposedNext: undefined, parked: new Set() }));
    const s = state;
    return new Promise<GateOutcome>((resolve) => {
      const parked: Parked = {
        sequence,
        resolve,
        timer: this.#timers.set(() => {
          s.parked.delete(parked);
          this.#prune(producerId);
          resolve('timeout');
        }, maxWaitMs),
      };
      s.parked.add(parked);
    });
  }

  /**
   * Called right after a batch was proposed. A batch proposed in order (at the expected sequence, or
   * any sequence for an unknown producer) moves the expected sequence past it and wakes its successor.
   */
  proposed(producerId: number, sequence: number, count: number): void {
    const expected = this.expected(producerId);
    if (expected !== undefined && sequence !== expected) return;
    let state = this.#producers.get(producerId);
    if (!state) {
      if (this.#producers.size >= MAX_TRACKED_PRODUCERS) this.#dropIdle();
      this.#producers.set(producerId, (state = { proposedNext: undefined, parked: new Set() }));
    }
    state.proposedNext = sequence + count;
    this.#wake(producerId, state);
  }

  /** Called after a produce entry of `producerId` was applied: the applied window may have caught up. */
  applied(producerId: number): void {
    const state = this.#producers.get(producerId);
    if (state) this.#wake(producerId, state);
  }

  /** Leadership lost or replica closed: lets every parked batch go (it then fails its leader check). */
  release(): void {
    const states = [...this.#producers.values()];
    this.#producers.clear();
    for (const s of states) for (const p of s.parked) this.#let(p, 'released');
  }

  #wake(producerId: number, state: ProducerState): void {
    const expected = this.expected(producerId) ?? 0;
    const ready = [...state.parked].filter((p) => p.sequence <= expected).sort((a, b) => a.sequence - b.sequence);
    for (const p of ready) state.parked.delete(p);
    this.#prune(producerId);
    for (const p of ready) this.#let(p, 'in-order');
  }

  #let(p: Parked, outcome: GateOutcome): void {
    this.#timers.clear(p.timer);
    p.resolve(outcome);
  }

  /** Forgets a producer once nothing is parked and the applied window covers what was proposed. */
  #prune(producerId: number): void {
    const state = this.#producers.get(producerId);
    if (!state || state.parked.size > 0) return;
    const applied = this.#appliedNext(producerId);
    if (state.proposedNext === undefined || (applied !== undefined && applied >= state.proposedNext))
      this.#producers.delete(producerId);
  }

  #dropIdle(): void {
    for (const [id, s] of this.#producers) if (s.parked.size === 0) this.#producers.delete(id);
  }
}
