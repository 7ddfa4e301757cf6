/**
 * The retry loop every client call runs in: retriable errors are retried with backoff until a deadline;
 * a leader redirect is followed at once; an abort stops everything with the signal's reason.
 */
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { toMyQueueError, type MyQueueError } from './errors.js';

export interface RetryOptions {
  /** Absolute time (ms, same clock as `now`) after which no new attempt starts. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
  readonly backoff?: BackoffOptions;
  readonly random?: () => number;
  readonly now?: () => number;
  /** Called before each retry, e.g. to refresh metadata. */
  readonly onRetry?: (error: MyQueueError, attempt: number, delayMs: number) => void;
  /** Decides what to do with an error; default: `defaultRetryDecision`. */
  readonly decide?: (error: MyQueueError) => RetryDecision;
}

/** 'now': retry at once (a redirect that names where to go); 'backoff': wait, then retry; 'fail': give up. */
export type RetryDecision = 'now' | 'backoff' | 'fail';

export function defaultRetryDecision(error: MyQueueError): RetryDecision {
  if (!error.retriable) return 'fail';
  if (error.code === 'MQ_ERR_NOT_LEADER' && typeof error.details.leaderUrl === 'string') return 'now';
  if (error.code === 'MQ_ERR_NOT_PRIMARY' && typeof error.details.primaryUrl === 'string') return 'now';
  return 'backoff';
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// Redirects answered at once count too, but a cluster bouncing a request between two nodes must not spin.
const MAX_IMMEDIATE_RETRIES = 3;

/**
 * Runs `op` until it succeeds, fails for good, the deadline passes (the last error is thrown) or the signal
 * aborts (its reason is thrown).
 */
export async function retry<T>(op: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const decide = options.decide ?? defaultRetryDecision;
  let immediate = 0;
  let backoffs = 0;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await op(attempt);
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      const error = toMyQueueError(e);
      let decision = decide(error);
      if (decision === 'now' && immediate >= MAX_IMMEDIATE_RETRIES) decision = 'backoff';
      if (decision === 'fail') throw error;
      const delay = decision === 'now' ? 0 : backoffDelay(backoffs, options.backoff, options.random);
      if (now() + delay >= options.deadline) throw error;
      if (decision === 'now') immediate++;
      else {
        immediate = 0;
        backoffs++;
      }
      options.onRetry?.(error, attempt, delay);
      if (delay > 0) await sleep(delay, options.signal);
    }
  }
}
