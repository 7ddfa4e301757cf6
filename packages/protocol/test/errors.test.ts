import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, MyQueueError, errorFromBody, failureBody } from '../src/errors.js';

describe('error codes', () => {
  it('are all documented in docs/errors.md with their status and retriable flag', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, { status, retriable }] of Object.entries(ERROR_CODES)) {
      expect(doc, code).toMatch(new RegExp(`\\|\\s*${code}\\s*\\|\\s*${status}\\s*\\|\\s*${retriable ? 'yes' : 'no'}\\s*\\|`));
    }
    const documented = [...doc.matchAll(/\|\s*(MQ_ERR_[A-Z_]+)\s*\|/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('round-trip through the wire form with their details', () => {
    const e = new MyQueueError('MQ_ERR_NOT_LEADER', 'not the leader of orders/0', { details: { leader: 'b2' } });
    const body = failureBody(e);
    expect(body).toEqual({ status: 'failure', message: 'not the leader of orders/0', code: 'MQ_ERR_NOT_LEADER', leader: 'b2' });
    const back = errorFromBody(JSON.parse(JSON.stringify(body)), 421);
    expect(back.code).toBe('MQ_ERR_NOT_LEADER');
    expect(back.retriable).toBe(true);
    expect(back.details.leader).toBe('b2');
  });

  it('maps a body without a known code by HTTP status', () => {
    expect(errorFromBody({ status: 'failure', message: 'x' }, 413).code).toBe('MQ_ERR_PAYLOAD_TOO_LARGE');
    expect(errorFromBody('garbage', 502).code).toBe('MQ_ERR_INTERNAL');
  });
});
