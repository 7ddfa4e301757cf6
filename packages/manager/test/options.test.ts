import { describe, expect, it } from 'vitest';
import { withDefaults } from '../src/options.js';

describe('manager options', () => {
  it('fill in the documented defaults and freeze', () => {
    const o = withDefaults({});
    expect(o.port).toBe(5000);
    expect(o.nodeId).toBe('manager-5000');
    expect(o.suspectAfterMs).toBe(3000);
    expect(o.deadAfterMs).toBe(10_000);
    expect(o.reassignAfterMs).toBe(30_000);
    expect(o.defaultReplicationFactor).toBe(3);
    expect(o.databaseUrl).toBeUndefined();
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('keep explicit values and ignore undefined ones', () => {
    const o = withDefaults({
      port: 0,
      nodeId: undefined,
      deadAfterMs: 500,
      suspectAfterMs: 200,
      heartbeatIntervalMs: 50,
      reassignAfterMs: 800,
    });
    expect(o.port).toBe(0);
    expect(o.nodeId).toBe('manager-0');
    expect(o.deadAfterMs).toBe(500);
  });

  it('refuse timeouts that contradict each other', () => {
    expect(() => withDefaults({ suspectAfterMs: 20_000 })).toThrow(RangeError);
    expect(() => withDefaults({ reassignAfterMs: 1000 })).toThrow(RangeError);
    expect(() => withDefaults({ defaultReplicationFactor: 6 })).toThrow(RangeError);
  });
});
