import { describe, expect, it } from 'vitest';
import { SimCluster } from '../src/sim/cluster.js';
import { createRaftNode } from '../src/sim/default-node.js';
import { requireLiveness, runSeed } from '../src/sim/run-seed.js';
import { Role } from '../src/types.js';

/**
 * Minimal reproductions of bugs the randomized simulator found in the core, each named after the seed
 * that found it. They run the real RaftNode in a scripted SimCluster.
 */
describe('sim regressions', () => {
  it('seed 11 (and 24, 140, 168, ...): a follower whose App was lost in replicate state catches up (inflight window full)', () => {
    const c = new SimCluster({
      seed: 11,
      voters: 3,
      createNode: createRaftNode,
      maxInflightMsgs: 1,
      persistDelayMax: 0,
    });
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
    expect(caughtUp, `progress of ${follower.id}: ${JSON.stringify(leader.raft!.status().progress[follower.id])}`).toBe(
      true,
    );
  });
  it('seeds 515 and 1743: a leader that handed leadership over (TimeoutNow) serves no lease read from a void lease', () => {
    const c = new SimCluster({
      seed: 515,
      voters: 3,
      createNode: createRaftNode,
      persistDelayMax: 0,
      checkQuorum: true,
      electionTick: 20,
    });
    requireLiveness(c, 'initial election', 4000);
    c.runFor(300);
    const old = c.leader()!;
    const [f1, f2] = c.nodes.filter((n) => n !== old);
    // The transferee campaigns with the transfer flag, which overrides the followers' leader lease; the old
    // leader hears nothing of it (one-way cuts), so its own lease still looks valid to it.
    c.network.cut(f1.id, old.id);
    c.network.cut(f2.id, old.id);
    expect(c.transferLeadership(old.id, f1.id)).toBe(true);
    expect(c.runUntil(() => f1.raft!.softState.role === Role.Leader, 500)).toBe(true);
    const acked = c.stats.acked;
    c.propose(f1.id);
    expect(c.runUntil(() => c.stats.acked > acked, 500)).toBe(true);
    // A lease read at the deposed leader must not return a state without that write (the checker throws).
    c.read(old.id, true);
    c.runFor(50);
  });

  it('a follower that restarts inside a leader lease does not help elect another leader before the lease ends', () => {
    const c = new SimCluster({
      seed: 7,
      voters: 3,
      createNode: createRaftNode,
      persistDelayMax: 0,
      checkQuorum: true,
      preVote: true,
      electionTick: 20,
    });
    requireLiveness(c, 'initial election', 4000);
    c.runFor(300);
    const old = c.leader()!;
    const [f1, f2] = c.nodes.filter((n) => n !== old);
    // f2 loses the leader; f1 answered the leader's last heartbeat, crashes and comes straight back, and
    // from then on the old leader hears nothing from it either (its lease rests on f1's last answer).
    c.network.partition([old.id], [f2.id]);
    c.crash(f1.id);
    c.restart(f1.id);
    c.network.cut(f1.id, old.id);
    let elected = false;
    for (let i = 0; i < 40 && !elected; i++) {
      c.campaign(f2.id);
      elected = c.runUntil(() => f2.raft?.softState.role === Role.Leader, 20);
    }
    expect(elected).toBe(true);
    const acked = c.stats.acked;
    c.propose(f2.id);
    expect(c.runUntil(() => c.stats.acked > acked, 500)).toBe(true);
    // Had f1 voted at once, the old leader's lease would still look valid here (the checker would throw).
    c.read(old.id, true);
    c.runFor(50);
  });
  it('seed 13239: stale candidates (no Pre-Vote) no longer keep restarting the up-to-date voters election timers (liveness)', () => {
    const r = runSeed({ seed: 13239, createNode: createRaftNode });
    expect(r.violation?.message).toBeUndefined();
  });
});
