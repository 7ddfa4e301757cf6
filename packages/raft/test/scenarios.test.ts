/**
 * The MIT 6.5840 Raft lab tests (raft/test_test.go, 3A-3D), recreated on the deterministic simulator
 * with the lab's names and structure. Differences, all deliberate:
 * - Time is virtual; ELECTION_WAIT (1000 ms) plays RaftElectionTimeout; our election timeout is 100-200 ms.
 * - Our log starts with a bootstrap membership entry and every new leader appends a no-op, so tests
 *   compare indexes relative to each other instead of expecting index 1, 2, 3...
 * - "Concurrent" clients are interleaved on the virtual clock.
 * - Every Raft invariant (election safety, log matching, leader completeness, state machine safety,
 *   durability before send...) is checked after every simulator step underneath each scenario.
 */
import { describe, expect, it } from 'vitest';
import { createRaftNode } from '../src/sim/default-node.js';
import { ELECTION_WAIT, Lab, SNAPSHOT_INTERVAL } from '../src/sim/lab.js';
import { MessageType } from '../src/types.js';

function lab(servers: number, opts: { unreliable?: boolean; snapshots?: boolean; seed?: number } = {}): Lab {
  return new Lab({ servers, createNode: createRaftNode, ...opts });
}

function randValue(l: Lab): string {
  return `c${l.rand()}`;
}

describe('3A: leader election', () => {
  it('initial election', () => {
    const l = lab(3);
    l.checkOneLeader();
    l.sleep(50);
    const term1 = l.checkTerms();
    expect(term1).toBeGreaterThanOrEqual(1);
    // With no failures the leader and term stay put (MIT only warns; with Check-Quorum we can require it).
    l.sleep(2 * ELECTION_WAIT);
    expect(l.checkTerms()).toBe(term1);
    l.checkOneLeader();
  });

  it('re-election', () => {
    const l = lab(3);
    const leader1 = l.checkOneLeader();
    // If the leader disconnects, a new one is elected.
    l.disconnect(leader1);
    l.checkOneLeader();
    // The old leader rejoining does not disturb the new one.
    l.connect(leader1);
    const leader2 = l.checkOneLeader();
    // No quorum: no leader.
    l.disconnect(leader2);
    l.disconnect((leader2 + 1) % 3);
    l.sleep(2 * ELECTION_WAIT);
    l.checkNoLeader();
    // A quorum arises: it elects a leader.
    l.connect((leader2 + 1) % 3);
    l.checkOneLeader();
    l.connect(leader2);
    l.checkOneLeader();
  });

  it('many elections', () => {
    const l = lab(7);
    l.checkOneLeader();
    for (let iter = 0; iter < 10; iter++) {
      const i1 = l.rand(7);
      const i2 = l.rand(7);
      const i3 = l.rand(7);
      l.disconnect(i1);
      l.disconnect(i2);
      l.disconnect(i3);
      // Either the current leader is still alive, or the remaining four elect a new one.
      l.checkOneLeader();
      l.connect(i1);
      l.connect(i2);
      l.connect(i3);
    }
    l.checkOneLeader();
  });
});

describe('3B: log', () => {
  it('basic agree', () => {
    const l = lab(5);
    let prev = -1;
    for (let iter = 1; iter <= 3; iter++) {
      const value = `c${iter * 100}`;
      const index = l.one(value, 5, false);
      expect(l.nCommitted(index).value).toBe(value);
      // One leader, one term: consecutive commands take consecutive indexes.
      if (prev !== -1) expect(index).toBe(prev + 1);
      prev = index;
    }
  });

  it('RPC bytes', () => {
    const l = lab(3);
    l.one('c99', 3, false);
    const bytes0 = l.entryBytes;
    let sent = 0;
    for (let i = 2; i < 10; i++) {
      l.one(`c${i}`, 3, false, 5000);
      sent += 5000;
    }
    // Each command is sent to each follower once (the lab allows servers*sent + 50000).
    const got = l.entryBytes - bytes0;
    expect(got).toBeGreaterThanOrEqual(2 * sent);
    expect(got).toBeLessThanOrEqual(3 * sent + 50_000);
  });

  it('follower failure', () => {
    const l = lab(3);
    l.one('c101', 3, false);
    const leader1 = l.checkOneLeader();
    l.disconnect((leader1 + 1) % 3);
    // The leader and the remaining follower still agree.
    l.one('c102', 2, false);
    l.sleep(ELECTION_WAIT);
    l.one('c103', 2, false);
    // Disconnect the remaining follower: nothing commits any more.
    const leader2 = l.checkOneLeader();
    l.disconnect((leader2 + 1) % 3);
    l.disconnect((leader2 + 2) % 3);
    const r = l.start(leader2, 'c104');
    expect(r.ok).toBe(true);
    l.sleep(2 * ELECTION_WAIT);
    expect(l.nCommitted(r.ok ? r.index : 0).count).toBe(0);
  });

  it('leader failure', () => {
    const l = lab(3);
    l.one('c101', 3, false);
    const leader1 = l.checkOneLeader();
    l.disconnect(leader1);
    // The remaining followers elect a leader and agree.
    l.one('c102', 2, false);
    l.sleep(ELECTION_WAIT);
    l.one('c103', 2, false);
    const leader2 = l.checkOneLeader();
    l.disconnect(leader2);
    const before = l.c.checker.maxCommitted;
    for (let i = 0; i < 3; i++) l.start(i, 'c104');
    l.sleep(2 * ELECTION_WAIT);
    // Only one server left connected: nothing new may commit.
    expect(l.c.checker.maxCommitted).toBe(before);
  });

  it('fail agree', () => {
    const l = lab(3);
    l.one('c101', 3, false);
    const leader = l.checkOneLeader();
    l.disconnect((leader + 1) % 3);
    l.one('c102', 2, false);
    l.one('c103', 2, false);
    l.sleep(ELECTION_WAIT);
    l.one('c104', 2, false);
    l.one('c105', 2, false);
    // The disconnected follower comes back and catches up.
    l.connect((leader + 1) % 3);
    l.one('c106', 3, true);
    l.sleep(ELECTION_WAIT);
    l.one('c107', 3, true);
  });

  it('fail no agree', () => {
    const l = lab(5);
    l.one('c10', 5, false);
    const leader = l.checkOneLeader();
    for (const k of [1, 2, 3]) l.disconnect((leader + k) % 5);
    const r = l.start(leader, 'c20');
    if (!r.ok) throw new Error('leader rejected Start()');
    l.sleep(2 * ELECTION_WAIT);
    expect(l.nCommitted(r.index).count).toBe(0);
    for (const k of [1, 2, 3]) l.connect((leader + k) % 5);
    // The disconnected majority may elect a leader of its own; either way agreement resumes.
    const leader2 = l.checkOneLeader();
    const r2 = l.start(leader2, 'c30');
    expect(r2.ok).toBe(true);
    l.one('c1000', 5, true);
  });

  it('concurrent starts', () => {
    const l = lab(3);
    let success = false;
    for (let attempt = 0; attempt < 5 && !success; attempt++) {
      if (attempt > 0) l.sleep(3000);
      const leader = l.checkOneLeader();
      const first = l.start(leader, `c1-${attempt}`);
      if (!first.ok) continue;
      const term = first.term;
      // Five clients submit at the same instant.
      const started: { index: number; value: string }[] = [];
      let failed = false;
      for (let i = 0; i < 5; i++) {
        const r = l.start(leader, `c${100 + i}-${attempt}`);
        if (!r.ok || r.term !== term) failed = true;
        else started.push({ index: r.index, value: r.value });
      }
      if (failed) continue;
      const got: string[] = [];
      for (const s of started) {
        const v = l.wait(s.index, 3, term);
        if (v === -1) {
          failed = true;
          break;
        }
        got.push(v);
      }
      if (failed) continue;
      expect(got.sort()).toEqual(started.map((s) => s.value).sort());
      success = true;
    }
    expect(success).toBe(true);
  });

  it('rejoin', () => {
    const l = lab(3);
    l.one('c101', 3, true);
    // The leader is partitioned off; it still accepts commands it can never commit.
    const leader1 = l.checkOneLeader();
    l.disconnect(leader1);
    l.start(leader1, 'c102');
    l.start(leader1, 'c103');
    l.start(leader1, 'c104');
    // A new leader commits in the majority.
    l.one('c103', 2, true);
    const leader2 = l.checkOneLeader();
    l.disconnect(leader2);
    // The old leader comes back: its uncommitted entries are overwritten.
    l.connect(leader1);
    l.one('c104', 2, true);
    l.connect(leader2);
    l.one('c105', 3, true);
  });

  it('backup', () => {
    const l = lab(5);
    l.one(randValue(l), 5, true);
    // Put the leader and one follower in a partition.
    const leader1 = l.checkOneLeader();
    for (const k of [2, 3, 4]) l.disconnect((leader1 + k) % 5);
    // Lots of commands that won't commit.
    for (let i = 0; i < 50; i++) l.start(leader1, randValue(l));
    l.sleep(ELECTION_WAIT / 2);
    l.disconnect(leader1 % 5);
    l.disconnect((leader1 + 1) % 5);
    // Allow the other partition to recover and commit lots of commands.
    for (const k of [2, 3, 4]) l.connect((leader1 + k) % 5);
    for (let i = 0; i < 50; i++) l.one(randValue(l), 3, true);
    // Now another partitioned leader and one follower.
    const leader2 = l.checkOneLeader();
    let other = (leader1 + 2) % 5;
    if (leader2 === other) other = (leader2 + 1) % 5;
    l.disconnect(other);
    // Lots more commands that won't commit.
    for (let i = 0; i < 50; i++) l.start(leader2, randValue(l));
    l.sleep(ELECTION_WAIT / 2);
    // Bring the original leader back to life: it must back up far.
    for (let i = 0; i < 5; i++) l.disconnect(i);
    l.connect(leader1 % 5);
    l.connect((leader1 + 1) % 5);
    l.connect(other);
    for (let i = 0; i < 50; i++) l.one(randValue(l), 3, true);
    for (let i = 0; i < 5; i++) l.connect(i);
    l.one(randValue(l), 5, true);
  });

  it('count', () => {
    const l = lab(3);
    // Electing the first leader takes few messages (Pre-Vote and Vote rounds plus the first appends).
    const ok = l.c.runUntil(() => l.c.leader() !== undefined, 5000);
    expect(ok).toBe(true);
    expect(l.messages).toBeLessThanOrEqual(30);
    l.checkOneLeader();
    l.one('c0', 3, false);
    // Ten commands submitted together travel in few appends (batching, no per-command round trips).
    const appsBefore = (l.c.network.stats.byType[MessageType.App] ?? 0) + (l.c.network.stats.byType[MessageType.AppResp] ?? 0);
    const leader = l.checkOneLeader();
    const term = l.term(leader);
    const starts = [];
    for (let i = 0; i < 10; i++) {
      const r = l.start(leader, `c${i + 1}`);
      expect(r.ok).toBe(true);
      if (r.ok) starts.push(r.index);
    }
    for (const index of starts) expect(l.wait(index, 3, term)).not.toBe(-1);
    const apps = (l.c.network.stats.byType[MessageType.App] ?? 0) + (l.c.network.stats.byType[MessageType.AppResp] ?? 0) - appsBefore;
    expect(apps).toBeLessThanOrEqual((10 + 1 + 3) * 3 * 2);
    // Idle for a second: only heartbeats (one per heartbeat interval per follower, plus replies).
    const idleBefore = l.messages;
    const appBefore = l.c.network.stats.byType[MessageType.App] ?? 0;
    l.sleep(1000);
    const heartbeatsPerSecond = 1000 / l.c.tickMs; // heartbeatTick 1
    expect(l.messages - idleBefore).toBeLessThanOrEqual(Math.ceil(2 * 2 * heartbeatsPerSecond * 1.1));
    expect((l.c.network.stats.byType[MessageType.App] ?? 0) - appBefore).toBeLessThanOrEqual(2);
  });
});

describe('3C: persistence', () => {
  it('persist 1', () => {
    const l = lab(3);
    l.one('c11', 3, true);
    // Crash and restart all.
    for (let i = 0; i < 3; i++) l.start1(i);
    for (let i = 0; i < 3; i++) {
      l.disconnect(i);
      l.connect(i);
    }
    l.one('c12', 3, true);
    const leader1 = l.checkOneLeader();
    l.disconnect(leader1);
    l.start1(leader1);
    l.connect(leader1);
    l.one('c13', 3, true);
    const leader2 = l.checkOneLeader();
    l.disconnect(leader2);
    const index = l.one('c14', 2, true);
    l.start1(leader2);
    l.connect(leader2);
    // Wait for the restarted leader2 to catch up.
    expect(l.wait(index, 3, -1)).toBe('c14');
    const i3 = (l.checkOneLeader() + 1) % 3;
    l.disconnect(i3);
    l.one('c15', 2, true);
    l.start1(i3);
    l.connect(i3);
    l.one('c16', 3, true);
  });

  it('persist 2', () => {
    const l = lab(5);
    let index = 1;
    for (let iters = 0; iters < 5; iters++) {
      l.one(`c${10 + index++}`, 5, true);
      const leader1 = l.checkOneLeader();
      l.disconnect((leader1 + 1) % 5);
      l.disconnect((leader1 + 2) % 5);
      l.one(`c${10 + index++}`, 3, true);
      l.disconnect((leader1 + 0) % 5);
      l.disconnect((leader1 + 3) % 5);
      l.disconnect((leader1 + 4) % 5);
      l.start1((leader1 + 1) % 5);
      l.start1((leader1 + 2) % 5);
      l.connect((leader1 + 1) % 5);
      l.connect((leader1 + 2) % 5);
      l.sleep(ELECTION_WAIT);
      l.start1((leader1 + 3) % 5);
      l.connect((leader1 + 3) % 5);
      l.one(`c${10 + index++}`, 3, true);
      l.connect((leader1 + 4) % 5);
      l.connect((leader1 + 0) % 5);
    }
    l.one('c1000', 5, true);
  });

  it('persist 3', () => {
    const l = lab(3);
    l.one('c101', 3, true);
    const leader = l.checkOneLeader();
    l.disconnect((leader + 2) % 3);
    l.one('c102', 2, true);
    l.crash1((leader + 0) % 3);
    l.crash1((leader + 1) % 3);
    l.connect((leader + 2) % 3);
    l.start1((leader + 0) % 3);
    l.connect((leader + 0) % 3);
    l.one('c103', 2, true);
    l.start1((leader + 1) % 3);
    l.connect((leader + 1) % 3);
    l.one('c104', 3, true);
  });

  it('Figure 8', () => {
    // Leaders crash right after appending, new leaders come and go: an entry of an old term must never
    // be counted committed by replica count alone (Figure 8 of the paper).
    const l = lab(5, { seed: 8 });
    l.one(randValue(l), 1, true);
    let nup = 5;
    for (let iters = 0; iters < 1000; iters++) {
      let leader = -1;
      for (let i = 0; i < 5; i++) {
        if (l.isUp(i) && l.start(i, randValue(l)).ok) leader = i;
      }
      if (l.rand(1000) < 100) l.sleep(l.rand(ELECTION_WAIT / 2));
      else l.sleep(l.rand(13));
      if (leader !== -1) {
        l.crash1(leader);
        nup--;
      }
      if (nup < 3) {
        const s = l.rand(5);
        if (!l.isUp(s)) {
          l.start1(s);
          l.connect(s);
          nup++;
        }
      }
    }
    l.reviveAll();
    l.one(randValue(l), 5, true);
    expect(l.c.stats.crashes).toBeGreaterThan(50);
  });

  it('unreliable agree', () => {
    const l = lab(5, { unreliable: true });
    for (let iters = 1; iters < 50; iters++) {
      // Five "concurrent" clients: four commands plus one, each retried until it commits somewhere.
      for (let j = 0; j < 4; j++) l.one(`c${100 * iters + j}`, 1, true);
      l.one(`c${iters}`, 1, true);
    }
    l.setUnreliable(false);
    l.one('c100', 5, true);
  });

  it('Figure 8 unreliable', () => {
    const l = lab(5, { unreliable: true, seed: 88 });
    l.one(`c${l.rand(10000)}`, 1, true);
    let nup = 5;
    for (let iters = 0; iters < 1000; iters++) {
      if (iters === 200) l.setLongReordering();
      let leader = -1;
      for (let i = 0; i < 5; i++) {
        if (l.start(i, `c${l.rand(10000)}`).ok && l.connected[i]) leader = i;
      }
      if (l.rand(1000) < 100) l.sleep(l.rand(ELECTION_WAIT / 2));
      else l.sleep(l.rand(13));
      if (leader !== -1 && l.rand(1000) < ELECTION_WAIT / 2) {
        l.disconnect(leader);
        nup--;
      }
      if (nup < 3) {
        const s = l.rand(5);
        if (!l.connected[s]) {
          l.connect(s);
          nup++;
        }
      }
    }
    for (let i = 0; i < 5; i++) l.connect(i);
    l.setUnreliable(false);
    l.one(`c${l.rand(10000)}`, 5, true);
  });

  function churn(unreliable: boolean, seed: number): void {
    const l = lab(5, { unreliable, seed });
    // Three clients keep submitting to random servers; a value counts once some server applied it
    // at the index Start() returned.
    const inFlight: { index: number; value: string; term: number }[] = [];
    const committedByClients: string[] = [];
    let stop = false;
    let seq = 0;
    const client = (): void => {
      if (stop) return;
      const i = l.rand(5);
      const r = l.start(i, `c${++seq}`);
      if (r.ok) inFlight.push({ index: r.index, value: r.value, term: r.term });
      l.c.schedule(l.rand(20) + 5, 'client', client);
    };
    for (let k = 0; k < 3; k++) client();
    const harvest = (): void => {
      for (let k = inFlight.length - 1; k >= 0; k--) {
        const p = inFlight[k];
        const got = l.nCommitted(p.index);
        if (got.count > 0) {
          if (got.value === p.value) committedByClients.push(p.value);
          inFlight.splice(k, 1);
        }
      }
    };
    for (let iters = 0; iters < 20; iters++) {
      if (l.rand(1000) < 200) l.disconnect(l.rand(5));
      if (l.rand(1000) < 500) {
        const i = l.rand(5);
        if (!l.isUp(i)) l.start1(i);
        l.connect(i);
      }
      if (l.rand(1000) < 200) {
        const i = l.rand(5);
        if (l.isUp(i)) l.crash1(i);
      }
      // Sleep less than an election timeout now and then so that leaders come and go mid-stream.
      l.sleep((ELECTION_WAIT * 7) / 10);
      harvest();
    }
    l.sleep(ELECTION_WAIT);
    l.setUnreliable(false);
    l.reviveAll();
    l.sleep(ELECTION_WAIT);
    stop = true;
    l.sleep(100);
    const lastIndex = l.one(`c-last`, 5, true);
    harvest();
    // Every value a client saw committed is in the log everyone agrees on.
    const log = new Set<string>();
    for (let index = 1; index <= lastIndex; index++) {
      const v = l.nCommitted(index);
      expect(v.count).toBe(5);
      if (v.value !== undefined) log.add(v.value);
    }
    for (const v of committedByClients) expect(log.has(v), `${v} committed but missing`).toBe(true);
    expect(committedByClients.length).toBeGreaterThan(10);
  }

  it('reliable churn', () => churn(false, 31));
  it('unreliable churn', () => churn(true, 32));
});

describe('3D: snapshots', () => {
  /** The lab's snapcommon: a victim misses entries while the others snapshot and compact past them. */
  function snapcommon(disconnect: boolean, reliable: boolean, crash: boolean, seed: number): Lab {
    const servers = 3;
    const l = lab(servers, { unreliable: !reliable, snapshots: true, seed });
    l.one(randValue(l), servers, true);
    let leader1 = l.checkOneLeader();
    for (let i = 0; i < 30; i++) {
      let victim = (leader1 + 1) % servers;
      let sender = leader1;
      if (i % 3 === 1) {
        sender = (leader1 + 1) % servers;
        victim = leader1;
      }
      if (disconnect) {
        l.disconnect(victim);
        l.one(randValue(l), servers - 1, true);
      }
      if (crash) {
        l.crash1(victim);
        l.one(randValue(l), servers - 1, true);
      }
      // Perhaps send enough to get a snapshot.
      const nn = SNAPSHOT_INTERVAL / 2 + l.rand(SNAPSHOT_INTERVAL);
      for (let k = 0; k < nn; k++) l.start(sender, randValue(l));
      // Let the appliers catch up with the Start()s.
      if (!disconnect && !crash) l.one(randValue(l), servers, true);
      else l.one(randValue(l), servers - 1, true);
      // The log stays short: snapshots compact it (the lab's MAXLOGSIZE).
      expect(l.maxLogEntries()).toBeLessThanOrEqual(4 * SNAPSHOT_INTERVAL);
      if (disconnect) {
        // Reconnect a follower, who may be behind and need a snapshot to catch up.
        l.connect(victim);
        l.one(randValue(l), servers, true);
        leader1 = l.checkOneLeader();
      }
      if (crash) {
        l.start1(victim);
        l.connect(victim);
        l.one(randValue(l), servers, true);
        leader1 = l.checkOneLeader();
      }
    }
    expect(l.c.stats.snapshotsTaken).toBeGreaterThan(10);
    return l;
  }

  it('snapshot basic', () => {
    snapcommon(false, true, false, 41);
  });

  it('snapshot install', () => {
    const l = snapcommon(true, true, false, 42);
    expect(l.c.stats.snapshotsInstalled).toBeGreaterThan(0);
  });

  it('snapshot install unreliable', () => {
    const l = snapcommon(true, false, false, 43);
    expect(l.c.stats.snapshotsInstalled).toBeGreaterThan(0);
  });

  it('snapshot install crash', () => {
    snapcommon(false, true, true, 44);
  });

  it('snapshot install uncrash', () => {
    snapcommon(false, false, true, 45);
  });

  it('snapshot all crash', () => {
    // Crash and restart all servers after snapshots: each restarts from its snapshot plus its log.
    const servers = 3;
    const l = lab(servers, { snapshots: true, seed: 46 });
    l.one(randValue(l), servers, true);
    for (let i = 0; i < 5; i++) {
      const nn = SNAPSHOT_INTERVAL / 2 + l.rand(SNAPSHOT_INTERVAL);
      for (let k = 0; k < nn; k++) l.one(randValue(l), servers, true);
      const index1 = l.one(randValue(l), servers, true);
      for (let k = 0; k < servers; k++) l.crash1(k);
      for (let k = 0; k < servers; k++) {
        l.start1(k);
        l.connect(k);
      }
      const index2 = l.one(randValue(l), servers, true);
      expect(index2).toBeGreaterThan(index1);
    }
  });

  it('snapshot init', () => {
    // A snapshot persisted before a crash must be what a restarted server starts from.
    const servers = 3;
    const l = lab(servers, { snapshots: true, seed: 47 });
    l.one(randValue(l), servers, true);
    for (let i = 0; i < SNAPSHOT_INTERVAL + 1; i++) l.one(randValue(l), servers, true);
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < servers; k++) l.crash1(k);
      for (let k = 0; k < servers; k++) {
        l.start1(k);
        l.connect(k);
      }
      // A single op, to get something written back to persistent storage (and then trigger a bug, if any).
      l.one(randValue(l), servers, true);
    }
    for (let k = 0; k < servers; k++) expect(l.c.node(l.id(k)).group.snapshot().meta.index).toBeGreaterThan(0);
  });
});
