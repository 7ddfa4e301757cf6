import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.js';
import { BadRequestError, NoLeaderError, NotLeaderError, TimeoutError, UnavailableError } from '../src/errors.js';
import { retry, sleep } from '../src/retry.js';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const top = () => 0.999999;
    expect(backoffDelay(0, { initialMs: 100, maxMs: 1000 }, top)).toBe(99);
    expect(backoffDelay(1, { initialMs: 100, maxMs: 1000 }, top)).toBe(199);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1000 }, top)).toBe(799);
    expect(backoffDelay(10, { initialMs: 100, maxMs: 1000 }, top)).toBe(999);
    expect(backoffDelay(50, { initialMs: 100, maxMs: 1000 }, () => 0)).toBe(1);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, { initialMs: 100, maxMs: 10_000 })));
    expect(spread.size).toBeGreaterThan(10);
  });
});

describe('retry', () => {
  const fast = { backoff: { initialMs: 1, maxMs: 2 } };

  it('retries retriable errors until success', async () => {
    let calls = 0;
    const result = await retry(
      () => (++calls < 4 ? Promise.reject(new NoLeaderError('election')) : Promise.resolve('ok')),
      { deadline: Date.now() + 5000, ...fast },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
  });

  it('fails at once on a non-retriable error', async () => {
    let calls = 0;
    await expect(
      retry(
        () => {
          calls++;
          return Promise.reject(new BadRequestError('bad'));
        },
        { deadline: Date.now() + 5000, ...fast },
      ),
    ).rejects.toBeInstanceOf(BadRequestError);
    expect(calls).toBe(1);
  });

  it('throws the last error once the deadline has passed', async () => {
    let calls = 0;
    const started = Date.now();
    await expect(
      retry(
        () => {
          calls++;
          return Promise.reject(new UnavailableError('down'));
        },
        { deadline: Date.now() + 100, backoff: { initialMs: 10, maxMs: 20 } },
      ),
    ).rejects.toBeInstanceOf(UnavailableError);
    expect(calls).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('follows redirects that name a leader without waiting, but not forever', async () => {
    const delays: number[] = [];
    let calls = 0;
    await retry(
      () =>
        ++calls <= 5
          ? Promise.reject(new NotLeaderError('moved', { details: { leader: 'b2', leaderUrl: 'http://127.0.0.1:1' } }))
          : Promise.resolve(calls),
      { deadline: Date.now() + 5000, ...fast, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(delays.slice(0, 3)).toEqual([0, 0, 0]);
    expect(delays[3]).toBeGreaterThan(0);
  });

  it('turns transport failures into typed errors', async () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const err: unknown = await retry(() => Promise.reject(cause), { deadline: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).details.sent).toBe(false);
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    await expect(retry(() => Promise.reject(reset), { deadline: 0 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('stops with the abort reason', async () => {
    const ac = new AbortController();
    const reason = new Error('cancelled');
    setTimeout(() => ac.abort(reason), 20);
    await expect(
      retry(() => Promise.reject(new UnavailableError('down')), {
        deadline: Date.now() + 60_000,
        signal: ac.signal,
        backoff: { initialMs: 10_000, maxMs: 10_000 },
        random: () => 0.5,
      }),
    ).rejects.toBe(reason);
    await expect(sleep(10, AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
