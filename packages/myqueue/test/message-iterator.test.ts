import { describe, expect, it } from 'vitest';
import { MessageIterator, type ReaderHooks } from '../src/message-iterator.js';

/** Scripted hooks: a queue of records, an end flag, an optional failure; counts opens and closes. */
function source(opts: { open?: () => Promise<boolean> } = {}) {
  const s = {
    queue: [] as number[],
    ended: false,
    failure: undefined as Error | undefined,
    opens: 0,
    closes: 0,
    polls: 0,
    wake: undefined as (() => void) | undefined,
    push(...xs: number[]) {
      s.queue.push(...xs);
      s.wake?.();
    },
    end() {
      s.ended = true;
      s.wake?.();
    },
  };
  const hooks: ReaderHooks<number> = {
    open: () => {
      s.opens++;
      return opts.open ? opts.open() : Promise.resolve(true);
    },
    close: () => void s.closes++,
    poll: () => {
      s.polls++;
      if (s.failure) throw s.failure;
      if (s.ended) return null;
      return s.queue.shift();
    },
    wait: () => new Promise<void>((r) => (s.wake = r)),
  };
  return { s, it: new MessageIterator(hooks) };
}

describe('MessageIterator (the consumer loop protocol)', () => {
  it('opens once, hands out records in order, waits when empty, closes once at the end', async () => {
    const { s, it: iter } = source();
    s.push(1, 2);
    expect(await iter.next()).toEqual({ done: false, value: 1 });
    expect(await iter.next()).toEqual({ done: false, value: 2 });
    const third = iter.next();
    s.push(3);
    expect(await third).toEqual({ done: false, value: 3 });
    const end = iter.next();
    s.end();
    expect(await end).toEqual({ done: true, value: undefined });
    expect(await iter.next()).toEqual({ done: true, value: undefined });
    expect([s.opens, s.closes]).toEqual([1, 1]);
  });

  it('queues next() calls made while one waits, like a generator', async () => {
    const { s, it: iter } = source();
    const a = iter.next();
    const b = iter.next();
    s.push(7);
    s.push(8);
    expect(await Promise.all([a, b])).toEqual([
      { done: false, value: 7 },
      { done: false, value: 8 },
    ]);
  });

  it('closes on return() (a loop left with break) and on a failure, which it rejects once', async () => {
    const { s, it: iter } = source();
    s.push(1);
    await iter.next();
    expect(await iter.return()).toEqual({ done: true, value: undefined });
    expect(s.closes).toBe(1);
    expect(await iter.next()).toEqual({ done: true, value: undefined });

    const other = source();
    other.s.push(1);
    await other.it.next();
    other.s.failure = new Error('boom');
    await expect(other.it.next()).rejects.toThrow('boom');
    expect(await other.it.next()).toEqual({ done: true, value: undefined });
    expect(other.s.closes).toBe(1);
  });

  it('never opens when returned first, and closes nothing when opening ends or fails', async () => {
    const first = source();
    await first.it.return();
    expect(await first.it.next()).toEqual({ done: true, value: undefined });
    expect([first.s.opens, first.s.closes]).toEqual([0, 0]);

    const stopped = source({ open: () => Promise.resolve(false) });
    expect(await stopped.it.next()).toEqual({ done: true, value: undefined });
    expect([stopped.s.opens, stopped.s.closes, stopped.s.polls]).toEqual([1, 0, 0]);

    const failing = source({ open: () => Promise.reject(new Error('no manager')) });
    await expect(failing.it.next()).rejects.toThrow('no manager');
    expect(await failing.it.next()).toEqual({ done: true, value: undefined });
    expect(failing.s.closes).toBe(0);
  });

  it('closes what it opened when return() came while opening', async () => {
    let finishOpen!: (v: boolean) => void;
    let opening!: () => void;
    const started = new Promise<void>((r) => (opening = r));
    const { s, it: iter } = source({
      open: () =>
        new Promise<boolean>((r) => {
          finishOpen = r;
          opening();
        }),
    });
    const first = iter.next();
    await started;
    await iter.return();
    finishOpen(true);
    expect(await first).toEqual({ done: true, value: undefined });
    expect([s.opens, s.closes]).toEqual([1, 1]);
  });
});
