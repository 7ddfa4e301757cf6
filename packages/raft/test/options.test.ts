import { describe, expect, it } from 'vitest';
import { DEFAULT_ELECTION_TICK, withDefaults } from '../src/options.js';
import type { LogReader } from '../src/storage.js';

const storage = {} as LogReader;

describe('withDefaults', () => {
  it('fills documented defaults and freezes', () => {
    const o = withDefaults({ id: 'a', group: 'g', storage, random: Math.random });
    expect(o.electionTick).toBe(DEFAULT_ELECTION_TICK);
    expect(o.preVote).toBe(true);
    expect(o.checkQuorum).toBe(true);
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('rejects an election timeout not above the heartbeat interval', () => {
    expect(() => withDefaults({ id: 'a', group: 'g', storage, random: Math.random, electionTick: 1, heartbeatTick: 1 })).toThrow(RangeError);
  });
});
