import { ERROR_CODES, MyQueueError, failureBody, type ErrorCode } from '@myqueue/protocol';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CLASSES,
  NotLeaderError,
  UnknownTopicError,
  type NotPrimaryError,
  NoLeaderError,
  OutOfOrderSequenceError,
  certainlyNotApplied,
  createError,
  produceMayHaveStored,
  errorFromResponse,
  toMyQueueError,
} from '../src/errors.js';

describe('typed errors', () => {
  it('has one class per wire code, carrying the code, status and retriable flag of the table', () => {
    const codes = Object.keys(ERROR_CODES) as ErrorCode[];
    expect(Object.keys(ERROR_CLASSES).sort()).toEqual([...codes].sort());
    const names = new Set<string>();
    for (const code of codes) {
      const e = createError(code, 'x');
      expect(e).toBeInstanceOf(MyQueueError);
      expect(e).toBeInstanceOf(ERROR_CLASSES[code]);
      expect(e.code).toBe(code);
      expect(e.status).toBe(ERROR_CODES[code].status);
      expect(e.retriable).toBe(ERROR_CODES[code].retriable);
      expect(e.name).toMatch(/Error$/);
      names.add(e.name);
    }
    expect(names.size).toBe(codes.length);
  });

  it('turns every failure body back into its class, keeping the details', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const body = failureBody(new MyQueueError(code, `failed with ${code}`, { details: { topic: 't' } }));
      const e = errorFromResponse(JSON.parse(JSON.stringify(body)), ERROR_CODES[code].status);
      expect(e).toBeInstanceOf(ERROR_CLASSES[code]);
      expect(e.message).toBe(`failed with ${code}`);
      expect(e.details.topic).toBe('t');
    }
  });

  it('exposes the redirect targets', () => {
    const nl = errorFromResponse(
      { status: 'failure', code: 'MQ_ERR_NOT_LEADER', message: 'm', leader: 'b2', leaderUrl: 'http://h:2' },
      421,
    );
    expect(nl).toBeInstanceOf(NotLeaderError);
    expect((nl as NotLeaderError).leader).toBe('b2');
    expect((nl as NotLeaderError).leaderUrl).toBe('http://h:2');
    const np = errorFromResponse(
      { status: 'failure', code: 'MQ_ERR_NOT_PRIMARY', message: 'm', primaryUrl: 'http://h:5000' },
      421,
    );
    expect((np as NotPrimaryError).primaryUrl).toBe('http://h:5000');
  });

  it('maps bodies without a known code by HTTP status', () => {
    expect(errorFromResponse('<html>', 502).code).toBe('MQ_ERR_INTERNAL');
    expect(errorFromResponse({}, 404).code).toBe('MQ_ERR_NOT_FOUND');
    expect(errorFromResponse({ code: 'MQ_ERR_NEW_THING' }, 400).code).toBe('MQ_ERR_BAD_REQUEST');
  });

  it('classifies transport failures by whether the request was sent', () => {
    const refused = toMyQueueError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(refused.code).toBe('MQ_ERR_UNAVAILABLE');
    expect(certainlyNotApplied(refused)).toBe(true);
    const nested = toMyQueueError(
      new Error('fetch failed', { cause: Object.assign(new Error('y'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) }),
    );
    expect(nested.code).toBe('MQ_ERR_TIMEOUT');
    expect(certainlyNotApplied(nested)).toBe(false);
    expect(certainlyNotApplied(new UnknownTopicError())).toBe(true);
    expect(toMyQueueError(new UnknownTopicError('t'))).toBeInstanceOf(UnknownTopicError);
  });

  it('a produce attempt answered 421/503 may have stored its batch (a leader deposed mid-request answers so)', () => {
    const refused = toMyQueueError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(produceMayHaveStored(refused)).toBe(false);
    expect(produceMayHaveStored(new OutOfOrderSequenceError('seq'))).toBe(false);
    expect(produceMayHaveStored(new UnknownTopicError())).toBe(false);
    const deposed = new NotLeaderError('lost leadership', { details: { leader: 'b2', leaderUrl: 'http://b2' } });
    expect(certainlyNotApplied(deposed)).toBe(true);
    expect(produceMayHaveStored(deposed)).toBe(true);
    expect(produceMayHaveStored(new NoLeaderError('election'))).toBe(true);
    expect(
      produceMayHaveStored(toMyQueueError(Object.assign(new Error('y'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))),
    ).toBe(true);
  });
});
