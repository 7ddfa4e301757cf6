import { describe, expect, it } from 'vitest';
import { SimCluster } from '../src/sim/cluster.js';
import { createRaftNode } from '../src/sim/default-node.js';
import { requireLiveness } from '../src/sim/run-seed.js';

/**
 * Minimal reproductions of bugs the randomized simulator found in the core, each named after the seed
 * that found it. They run the real RaftNode in a scripted SimCluster.
 */
describe('sim regressions', () => {
  it('seed 11 (and 24, 140, 168, ...): a follower whose App was lost in replicate state catches up (inflight window full)', () => {
    const c = new SimCluster({ seed: 11, voters: 3, createNode: createRaftNode, maxInflightMsgs: 1, persistDelayMax: 0 });
    requireLiveness(c, 'initial election', 2000);
    const leader = c.leader()!;
    const follower = c.nodes.find((n) => n !== leader)!;
    c.runFor(200);
    // Lose exactly the appends sent to one follower while a proposal is replicated.
    c.network.cut(leader.id, follower.id);
    c.propose(leader.id);
    c.runFor(5);
    c.network.mend(leader.id, follower.id);
    for (let i = 0; i < 5; i++) {
      c.propose(leader.id);
      c.runFor(20);
    }
    const commit = leader.raft!.status().commit;
    const caughtUp = c.runUntil(() => follower.sm.applied >= commit, 2000);
    expect(caughtUp, `progress of ${follower.id}: ${JSON.stringify(leader.raft!.status().progress[follower.id])}`).toBe(true);
  });
});
