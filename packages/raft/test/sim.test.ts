import { describe, expect, it } from 'vitest';
import { forgetsVotes, sendsBeforePersisting } from '../src/sim/broken-node.js';
import { SimCluster } from '../src/sim/cluster.js';
import { createRaftNode } from '../src/sim/default-node.js';
import { LogImage } from '../src/sim/durable-log.js';
import { EventQueue } from '../src/sim/event-queue.js';
import { InvariantChecker, SimViolation } from '../src/sim/invariants.js';
import { SimNetwork, UNRELIABLE_NETWORK } from '../src/sim/network.js';
import { Prng } from '../src/sim/prng.js';
import { requireLiveness, runSeed } from '../src/sim/run-seed.js';
import { EntryType, MessageType, Role } from '../src/types.js';
import type { Entry, Message } from '../src/types.js';

const enc = new TextEncoder();
const entry = (index: number, term: number, data = `x${index}`): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: enc.encode(data),
});

describe('simulator building blocks', () => {
  it('the PRNG replays a seed bit for bit and spreads values', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(new Prng(43).next()).not.toBe(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[a.int(3)]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });

  it('the event queue runs events by time, ties in scheduling order', () => {
    const q = new EventQueue<string>();
    q.push(5, 'c');
    q.push(1, 'a');
    q.push(5, 'd');
    q.push(3, 'b');
    q.removeWhere((x) => x === 'b');
    const out: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) out.push(e.item);
    expect(out).toEqual(['a', 'c', 'd']);
  });

  it('the network drops, duplicates and delays at the configured rates, and honours cut links', () => {
    const net = new SimNetwork(new Prng(7));
    net.setFaults(UNRELIABLE_NETWORK);
    const m: Message = { type: MessageType.Heartbeat, group: 'g', from: 'a', to: 'b', term: 1 };
    let delivered = 0;
    let late = 0;
    for (let i = 0; i < 10_000; i++) {
      for (const d of net.send(m, 0)) {
        delivered++;
        if (d.at > UNRELIABLE_NETWORK.maxDelay) late++;
      }
    }
    expect(net.stats.dropped).toBeGreaterThan(800);
    expect(net.stats.dropped).toBeLessThan(1200);
    expect(net.stats.duplicated).toBeGreaterThan(300);
    expect(delivered).toBe(10_000 - net.stats.dropped + net.stats.duplicated);
    expect(late).toBeGreaterThan(200);
    net.cut('a', 'b');
    expect(net.send(m, 0)).toEqual([]);
    expect(net.linked('b', 'a')).toBe(true);
    net.heal();
    expect(net.linked('a', 'b')).toBe(true);
  });
});

describe('the invariant checker fails when it should', () => {
  const checker = (): InvariantChecker => new InvariantChecker(() => 0);
  const image = (...entries: Entry[]): LogImage => {
    const img = new LogImage();
    img.append(entries);
    return img;
  };

  it('two leaders in one term', () => {
    const c = checker();
    c.observeLeader({ id: 'a', term: 3, durable: image() });
    c.observeLeader({ id: 'a', term: 3, durable: image() });
    expect(() => c.observeLeader({ id: 'b', term: 3, durable: image() })).toThrow(/election safety/);
  });

  it('a leader missing a committed entry', () => {
    const c = checker();
    c.onApply('a', 2, entry(1, 2), []);
    expect(() => c.observeLeader({ id: 'b', term: 3, durable: image(entry(1, 1)) })).toThrow(/leader completeness/);
    c.observeLeader({ id: 'c', term: 4, durable: image(entry(1, 2)) });
  });

  it('two different entries applied at one index', () => {
    const c = checker();
    c.onApply('a', 1, entry(1, 1, 'x'), []);
    expect(() => c.onApply('b', 1, entry(1, 1, 'y'), [])).toThrow(/state machine safety/);
  });

  it('one (index, term) with different contents or predecessors', () => {
    const c = checker();
    c.onEntriesDurable('a', image(entry(1, 1), entry(2, 2)), [entry(1, 1), entry(2, 2)]);
    expect(() => c.onEntriesDurable('b', image(entry(1, 1), entry(2, 2, 'other')), [entry(2, 2, 'other')])).toThrow(
      /log matching/,
    );
    expect(() => c.onEntriesDurable('c', image(entry(1, 2), entry(2, 2)), [entry(1, 2), entry(2, 2)])).toThrow(
      /log matching/,
    );
  });

  it('terms, votes and commits that go back', () => {
    const c = checker();
    expect(() => c.onHardStateDurable('a', { term: 3, vote: '', commit: 0 }, { term: 2, vote: '', commit: 0 })).toThrow(
      /term monotonic/,
    );
    expect(() =>
      c.onHardStateDurable('a', { term: 3, vote: 'b', commit: 0 }, { term: 3, vote: 'c', commit: 0 }),
    ).toThrow(/one vote per term/);
    expect(() => c.onHardStateDurable('a', { term: 3, vote: '', commit: 5 }, { term: 3, vote: '', commit: 4 })).toThrow(
      /commit monotonic/,
    );
  });

  it('messages that depend on state not yet durable', () => {
    const c = checker();
    const durable = image(entry(1, 1));
    const vote: Message = { type: MessageType.VoteResp, group: 'g', from: 'a', to: 'b', term: 1, reject: false };
    expect(() => c.beforeSend('a', durable, [vote])).toThrow(/persist before send/);
    const ack: Message = { type: MessageType.AppResp, group: 'g', from: 'a', to: 'b', term: 0, index: 2 };
    expect(() => c.beforeSend('a', durable, [ack])).toThrow(/persist before send/);
  });

  it('a stale read', () => {
    const c = checker();
    c.onApply('a', 1, entry(1, 1, 'v1'), [], 'v1');
    c.onAck({ value: 'v1', index: 1, term: 1, at: 0 });
    expect(() => c.checkRead('b', 'r1', 1, () => false, 0)).toThrow(/linearizable read/);
    c.checkRead('b', 'r2', 1, (v) => v === 'v1', 1);
  });
});

describe('randomized simulation', () => {
  // CI's share of the soak: every fault kind, membership changes, snapshots, transfers and reads mixed.
  // `pnpm --filter @myqueue/raft sim --seeds 2000 --start 1` runs the same code over more seeds.
  it('a few hundred seeds break no invariant and stay live', { timeout: 180_000 }, () => {
    const failures: string[] = [];
    const mix = { commits: 0, crashes: 0, confChanges: 0, leaderRemovals: 0, transfers: 0, snapshots: 0, reads: 0 };
    for (let seed = 1; seed <= 300; seed++) {
      const r = runSeed({ seed, createNode: createRaftNode, chaosMs: 2000 });
      mix.commits += r.stats.commits;
      mix.crashes += r.stats.crashes;
      mix.confChanges += r.stats.confChangesApplied;
      mix.leaderRemovals += r.stats.leaderRemovals;
      mix.transfers += r.stats.transfers;
      mix.snapshots += r.stats.snapshotsInstalled;
      mix.reads += r.stats.readsServed;
      if (r.violation) failures.push(`seed ${seed}: ${r.violation.message}`);
    }
    expect(failures).toEqual([]);
    // The seeds really exercised the whole mix: not only faults but membership changes (the leader removing
    // itself included), leadership transfers, and followers catching up from snapshots.
    expect(mix.commits).toBeGreaterThan(300 * 20);
    for (const [kind, count] of Object.entries(mix)) expect(count, kind).toBeGreaterThan(50);
  });

  it('replays a seed bit for bit', () => {
    const a = runSeed({ seed: 5, createNode: createRaftNode, chaosMs: 1000, traceLines: 50 });
    const b = runSeed({ seed: 5, createNode: createRaftNode, chaosMs: 1000, traceLines: 50 });
    expect(b.stats).toEqual(a.stats);
    expect(b.traceTail).toEqual(a.traceTail);
    const c = runSeed({ seed: 6, createNode: createRaftNode, chaosMs: 1000 });
    expect(c.stats).not.toEqual(a.stats);
  });
});

describe('the simulator catches a broken core', () => {
  it('one that sends before persisting (never asks for an fsync)', () => {
    const r = runSeed({ seed: 1, createNode: sendsBeforePersisting(createRaftNode), chaosMs: 1000 });
    expect(r.violation?.invariant).toBe('persist before send');
  });

  it('one that sends before persisting, with the send check off: durability checks still fail', () => {
    const r = runSeed({
      seed: 1,
      createNode: sendsBeforePersisting(createRaftNode),
      chaosMs: 1000,
      checkSendAfterSync: false,
    });
    expect(r.violation).toBeInstanceOf(SimViolation);
  });

  it('one that forgets its vote: caught as a vote sent before it was persisted', () => {
    const r = runSeed({ seed: 1, createNode: forgetsVotes(createRaftNode), chaosMs: 1000 });
    expect(r.violation?.invariant).toBe('persist before send');
  });

  it('one that forgets its vote, with the send check off: two leaders in one term after a crash', () => {
    // n1 and n3 both campaign in term T; n2 votes for n1, crashes before anything else reaches it, and
    // restarts without its vote; n3's request then wins n2's second vote in the same term.
    const build = (factory: typeof createRaftNode): SimCluster =>
      new SimCluster({
        seed: 3,
        voters: 3,
        createNode: factory,
        preVote: false,
        checkQuorum: false,
        persistDelayMax: 0,
        checkSendAfterSync: false,
      });
    const run = (c: SimCluster): void => {
      requireLiveness(c, 'initial election', 2000);
      c.runFor(100);
      const [n1, n2, n3] = ['n1', 'n2', 'n3'].map((id) => c.node(id));
      c.network.isolate('n3', ['n1', 'n2']);
      c.campaign('n1');
      c.runUntil(() => n1.raft!.softState.role === Role.Leader, 1000);
      c.crash('n2');
      c.network.cut('n1', 'n2');
      c.restart('n2');
      c.network.mend('n3', 'n2');
      c.network.mend('n2', 'n3');
      c.campaign('n3');
      c.runFor(200);
      expect(n2.up && n3.up).toBe(true);
    };
    // The real core refuses the second vote...
    run(build(createRaftNode));
    // ...the broken one grants it, and the checker sees two leaders in one term.
    expect(() => run(build(forgetsVotes(createRaftNode)))).toThrow(/election safety/);
  });
});
