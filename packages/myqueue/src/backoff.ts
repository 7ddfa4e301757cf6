/**
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"): attempt n waits a random
 * time in [0, min(max, initial * multiplier^n)], so clients retrying together spread out. Pure: the random
 * source is injected.
 */
export interface BackoffOptions {
  /** Upper bound of the first wait. Default 50 ms. */
  readonly initialMs?: number;
  /** Cap of any wait. Default 2000 ms. */
  readonly maxMs?: number;
  /** Growth per attempt. Default 2. */
  readonly multiplier?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = Object.freeze({ initialMs: 50, maxMs: 2000, multiplier: 2 });

/** The wait before retry number `attempt` (0-based), in ms. `random` returns a number in [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { initialMs, maxMs, multiplier } = { ...DEFAULT_BACKOFF, ...options };
  const ceiling = Math.min(maxMs, initialMs * Math.pow(multiplier, Math.max(0, attempt)));
  // Never 0: a retry loop against a dead node must always yield to the event loop for a moment.
  return Math.max(1, Math.floor(random() * ceiling));
}
