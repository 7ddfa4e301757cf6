import type { ServerResponse } from 'node:http';

/**
 * An AbortSignal that fires when the client goes away before its answer was sent (ends a long poll
 * early). Every response closes, so aborting on any close would allocate a DOMException and run the
 * abort machinery once per answered fetch, for nothing (~1 % of a leader's time while a consumer tails).
 */
export function abortOnClose(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac.signal;
}
