/**
 * A send's delivery deadline as an AbortSignal, so every wait of the send (registration, metadata, backoff)
 * ends by it, not only the produce attempts (docs/reliability.md F3).
 */
import { TimeoutError } from './errors.js';

export interface Deadline {
  /** Aborts at the deadline (reason: a TimeoutError saying nothing was sent) or with `parent`'s reason. */
  readonly signal: AbortSignal;
  /** Stops the timer; call when the work is done. */
  dispose(): void;
}

/**
 * `deadline` (Date.now() clock) as a signal. Its TimeoutError carries `details.sent === false`: the wait it
 * ended sent nothing, so on its own it certainly did not store anything. Work that may have stored something
 * (a produce attempt) must say so itself (the producer's `mayBeStored`).
 */
export function deadlineSignal(deadline: number, what: string, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const expire = () =>
    controller.abort(new TimeoutError(`${what}: delivery timeout passed`, { details: { sent: false, deadline } }));
  const onParent = () => controller.abort(parent?.reason);
  const remaining = deadline - Date.now();
  let timer: NodeJS.Timeout | undefined;
  if (parent?.aborted) onParent();
  else if (remaining <= 0) expire();
  else {
    timer = setTimeout(expire, remaining);
    parent?.addEventListener('abort', onParent, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

/** `promise`, or the signal's reason when it aborts first (the promise itself keeps running for others). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}
