import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../src/errors.js';
import { consumerDefaults, producerDefaults, withDefaults } from '../src/options.js';

describe('options', () => {
  it('fills documented defaults and freezes', () => {
    const o = withDefaults({ manager: 'http://127.0.0.1:5000/' });
    expect(o.managers).toEqual(['http://127.0.0.1:5000']);
    expect(o.requestTimeoutMs).toBe(10_000);
    expect(o.retryTimeoutMs).toBe(30_000);
    expect(Object.isFrozen(o)).toBe(true);
    const p = producerDefaults({}, o);
    expect(p).toMatchObject({
      idempotent: true,
      acks: 'all',
      lingerMs: 5,
      batchSize: 1000,
      deliveryTimeoutMs: 30_000,
      allowAutoTopicCreation: false,
    });
    const c = consumerDefaults({ topics: ['a', 'a', 'b'] });
    expect(c).toMatchObject({ topics: ['a', 'b'], startAt: 'committed', autoCommit: true, maxWaitMs: 500 });
  });

  it('accepts several managers as a list or a comma-separated string', () => {
    expect(withDefaults({ manager: 'http://a:1, http://b:2' }).managers).toEqual(['http://a:1', 'http://b:2']);
    expect(withDefaults({ manager: ['http://a:1', 'http://b:2/x'] }).managers).toEqual(['http://a:1', 'http://b:2']);
  });

  it('rejects bad values with BadRequestError', () => {
    expect(() => withDefaults({ manager: '' })).toThrow(BadRequestError);
    expect(() => withDefaults({ manager: 'not a url' })).toThrow(BadRequestError);
    expect(() => withDefaults({ manager: 'http://a:1', requestTimeoutMs: 0 })).toThrow(BadRequestError);
    expect(() => producerDefaults({ batchSize: 200_000 }, withDefaults({ manager: 'http://a:1' }))).toThrow(
      BadRequestError,
    );
    expect(() => consumerDefaults({ topics: [] })).toThrow(BadRequestError);
  });
});
