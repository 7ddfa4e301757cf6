/**
 * One test per rule of sections 5.1-5.4 of the Raft paper ("In Search of an Understandable Consensus
 * Algorithm", extended version), each named after the sentence it checks. Pre-Vote and Check-Quorum are
 * off here (they are not in the paper); they have their own tests.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../src/types.js';
import { MessageType, Role } from '../src/types.js';
import { enc, Net, Solo } from './core-harness.js';

const only = (msgs: Message[], type: MessageType): Message[] => msgs.filter((m) => m.type === type);
const paper = { preVote: false, checkQuorum: false } as const;

/** Campaigns (a few times: a first try may only reveal a higher term) until `id` leads. */
function campaignUntilLeader(net: Net, id: string): void {
  for (let i = 0; i < 5 && net.node(id).softState.role !== Role.Leader; i++) {
    net.node(id).campaign();
    net.settle();
  }
  expect(net.node(id).softState.role).toBe(Role.Leader);
}

describe('5.1 Raft basics', () => {
  it('"If a server receives a request with a stale term number, it rejects the request"', () => {
    const s = new Solo('a', { terms: [1, 1], term: 3 });
    s.step({
      type: MessageType.App,
      from: 'b',
      term: 2,
      index: 2,
      logTerm: 1,
      entries: [{ index: 3, term: 2, type: 0, data: enc('x') }],
      commit: 3,
    });
    const out = s.msgs();
    expect(s.node.status().lastIndex).toBe(2);
    expect(s.node.status().commit).toBe(0);
    // Nothing that accepts; at most a response that carries our newer term.
    expect(out.every((m) => m.term === 3 && m.reject !== false)).toBe(true);
    s.step({ type: MessageType.Vote, from: 'b', term: 2, index: 9, logTerm: 9 });
    expect(only(s.msgs(), MessageType.VoteResp)).toEqual([]);
  });

  it('"If one server\'s current term is smaller than the other\'s, then it updates its current term to the larger value"', () => {
    for (const type of [MessageType.App, MessageType.Heartbeat, MessageType.Vote, MessageType.AppResp]) {
      const s = new Solo('a', { term: 1 });
      s.step({ type, from: 'b', term: 5, index: 0, logTerm: 0 });
      expect(s.node.softState.term).toBe(5);
      expect(s.ready().hardState?.term ?? s.storage.hard.term).toBe(5);
    }
  });

  it('"Persistent state on all servers: (Updated on stable storage before responding to RPCs)"', () => {
    // The answer to a vote leaves in the same Ready as the vote, which must be synced before it is sent.
    const voter = new Solo('a', { term: 1 });
    voter.step({ type: MessageType.Vote, from: 'b', term: 2, index: 0, logTerm: 0 });
    const rd = voter.ready();
    expect(rd.hardState).toMatchObject({ term: 2, vote: 'b' });
    expect(rd.mustSync).toBe(true);
    expect(only([...rd.messages], MessageType.VoteResp)).toHaveLength(1);
    // An acknowledgement of new entries leaves with the entries it acknowledges.
    const follower = new Solo('a', { term: 1 });
    follower.step({
      type: MessageType.App,
      from: 'b',
      term: 1,
      index: 0,
      logTerm: 0,
      entries: [{ index: 1, term: 1, type: 0, data: enc('x') }],
      commit: 0,
    });
    const rd2 = follower.ready();
    expect(rd2.entries.map((e) => e.index)).toEqual([1]);
    expect(rd2.mustSync).toBe(true);
    expect(only([...rd2.messages], MessageType.AppResp)[0]).toMatchObject({ index: 1 });
  });

  it('"If a candidate or leader discovers that its term is out of date, it immediately reverts to follower state"', () => {
    const cand = new Solo('a', { voters: ['a', 'b', 'c'] });
    cand.node.campaign();
    expect(cand.node.softState.role).toBe(Role.Candidate);
    cand.step({ type: MessageType.Heartbeat, from: 'b', term: 9, commit: 0 });
    expect(cand.node.softState).toEqual({ role: Role.Follower, leader: 'b', term: 9 });

    const net = new Net(['a', 'b', 'c'], paper);
    net.elect('a');
    net.node('a').step({ type: MessageType.VoteResp, group: 'g', from: 'c', to: 'a', term: 99, reject: true });
    expect(net.node('a').softState.role).toBe(Role.Follower);
    expect(net.node('a').softState.term).toBe(99);
  });

  it('"Servers retry RPCs if they do not receive a response in a timely manner" (probes go out again on heartbeat answers)', () => {
    const net = new Net(['a', 'b', 'c'], paper);
    net.elect('a');
    net.isolate('c');
    net.node('a').propose(enc('x'));
    net.settle();
    net.heal();
    net.tickAll(3);
    expect(net.data('c')).toEqual(['x']);
  });
});

describe('5.2 Leader election', () => {
  it('"If a follower receives no communication over a period of time called the election timeout, then it ... begins an election"', () => {
    const s = new Solo('a', { term: 1, electionTick: 10 });
    s.ticks(9);
    expect(s.node.softState.role).toBe(Role.Follower);
    s.ticks(11); // the randomized timeout is in [10, 20)
    expect(s.node.softState.role).toBe(Role.Candidate);
  });

  it('"To begin an election, a follower increments its current term and transitions to candidate state. It then votes for itself and issues RequestVote RPCs in parallel to each of the other servers"', () => {
    const s = new Solo('a', { voters: ['a', 'b', 'c', 'd', 'e'], terms: [1, 2], term: 2 });
    s.node.campaign();
    const rd = s.ready();
    expect(rd.hardState).toMatchObject({ term: 3, vote: 'a' });
    expect(rd.mustSync).toBe(true);
    const votes = only([...rd.messages], MessageType.Vote);
    expect(votes.map((m) => m.to).sort()).toEqual(['b', 'c', 'd', 'e']);
    for (const v of votes) expect(v).toMatchObject({ term: 3, index: 2, logTerm: 2 });
  });

  it('"A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term"', () => {
    const cases: { voters: string[]; grants: Record<string, boolean>; role: Role }[] = [
      { voters: ['a'], grants: {}, role: Role.Leader },
      { voters: ['a', 'b', 'c'], grants: { b: true }, role: Role.Leader },
      { voters: ['a', 'b', 'c'], grants: { b: false }, role: Role.Candidate },
      { voters: ['a', 'b', 'c'], grants: { b: false, c: false }, role: Role.Follower },
      { voters: ['a', 'b', 'c', 'd', 'e'], grants: { b: true }, role: Role.Candidate },
      { voters: ['a', 'b', 'c', 'd', 'e'], grants: { b: true, c: true }, role: Role.Leader },
      { voters: ['a', 'b', 'c', 'd', 'e'], grants: { b: false, c: false, d: false }, role: Role.Follower },
    ];
    for (const c of cases) {
      const s = new Solo('a', { voters: c.voters });
      s.node.campaign();
      for (const [from, granted] of Object.entries(c.grants))
        s.step({ type: MessageType.VoteResp, from, term: 1, reject: !granted });
      expect(s.node.softState.role, JSON.stringify(c)).toBe(c.role);
    }
  });

  it('"Each server will vote for at most one candidate in a given term, on a first-come-first-served basis"', () => {
    const s = new Solo('a', { term: 1 });
    s.step({ type: MessageType.Vote, from: 'b', term: 2, index: 0, logTerm: 0 });
    s.step({ type: MessageType.Vote, from: 'c', term: 2, index: 0, logTerm: 0 });
    s.step({ type: MessageType.Vote, from: 'b', term: 2, index: 0, logTerm: 0 }); // a retry is granted again
    const resps = only(s.msgs(), MessageType.VoteResp);
    expect(resps.map((m) => [m.to, m.reject ?? false])).toEqual([
      ['b', false],
      ['c', true],
      ['b', false],
    ]);
    expect(s.storage.hard.vote).toBe('b');
  });

  it('"If the leader\'s term ... is at least as large as the candidate\'s current term, then the candidate recognizes the leader as legitimate and returns to follower state"', () => {
    const s = new Solo('a');
    s.node.campaign();
    s.step({ type: MessageType.App, from: 'b', term: 1, index: 0, logTerm: 0, entries: [], commit: 0 });
    expect(s.node.softState).toEqual({ role: Role.Follower, leader: 'b', term: 1 });
  });

  it('"If the term in the RPC is smaller than the candidate\'s current term, then the candidate rejects the RPC and continues in candidate state"', () => {
    const s = new Solo('a', { term: 4 });
    s.node.campaign();
    s.step({ type: MessageType.App, from: 'b', term: 3, index: 0, logTerm: 0, entries: [], commit: 0 });
    expect(s.node.softState.role).toBe(Role.Candidate);
  });

  it('"each candidate will time out and start a new election by incrementing its term" when nobody wins', () => {
    const s = new Solo('a', { electionTick: 10 });
    s.node.campaign();
    expect(s.node.softState.term).toBe(1);
    s.ticks(20);
    expect(s.node.softState).toMatchObject({ role: Role.Candidate, term: 2 });
  });

  it('"A server remains in follower state as long as it receives valid RPCs from a leader or candidate"', () => {
    const s = new Solo('a', { term: 1, electionTick: 10 });
    for (let round = 0; round < 10; round++) {
      s.ticks(9); // below the shortest randomized timeout
      s.step({ type: MessageType.Heartbeat, from: 'b', term: 1, commit: 0 });
    }
    expect(s.node.softState).toEqual({ role: Role.Follower, leader: 'b', term: 1 });
  });

  it('"If election timeout elapses without receiving AppendEntries RPC from current leader or granting vote to candidate: convert to candidate" (granting a vote restarts the timer)', () => {
    const s = new Solo('a', { term: 2, electionTick: 10 });
    s.ticks(9);
    s.step({ type: MessageType.Vote, from: 'b', term: 2, index: 0, logTerm: 0 });
    expect(only(s.msgs(), MessageType.VoteResp)[0].reject).toBeUndefined();
    s.ticks(9); // 18 ticks since the start, 9 since the vote: only the vote keeps it a follower
    expect(s.node.softState).toMatchObject({ role: Role.Follower, term: 2 });
    s.ticks(10); // 19 since the vote: past any randomized timeout in [10, 20)
    expect(s.node.softState).toMatchObject({ role: Role.Candidate, term: 3 });
  });

  it('... and a vote request it rejects, even of a newer term, does not restart the timer (stale candidates cannot starve it)', () => {
    // Every randomized timeout is 19 ticks here.
    const s = new Solo('a', { terms: [1, 2], term: 2, electionTick: 10, random: () => 0.99 });
    s.ticks(18);
    s.step({ type: MessageType.Vote, from: 'b', term: 3, index: 1, logTerm: 1 }); // b's log is behind
    expect(only(s.msgs(), MessageType.VoteResp)[0].reject).toBe(true);
    expect(s.node.softState).toMatchObject({ role: Role.Follower, term: 3 });
    s.ticks(1); // 19 ticks without a leader or a granted vote
    expect(s.node.softState).toMatchObject({ role: Role.Candidate, term: 4 });
  });

  it('"Raft uses randomized election timeouts ... chosen randomly from a fixed interval"', () => {
    const timeouts = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      let r = seed;
      const s = new Solo('a', { electionTick: 10, random: () => (r = (r * 7919 + 13) % 1000) / 1000 });
      let t = 0;
      while (s.node.softState.role === Role.Follower && t < 100) {
        s.node.tick();
        t++;
      }
      expect(t).toBeGreaterThanOrEqual(10);
      expect(t).toBeLessThan(20);
      timeouts.add(t);
    }
    expect(timeouts.size).toBeGreaterThan(3);
  });

  it('"Once a candidate wins an election, it becomes leader. It then sends heartbeat messages to all of the other servers"', () => {
    const net = new Net(['a', 'b', 'c'], paper);
    net.elect('a');
    net.sent = [];
    net.node('a').tick();
    net.cycle();
    expect(
      only(net.sent, MessageType.Heartbeat)
        .map((m) => m.to)
        .sort(),
    ).toEqual(['b', 'c']);
  });

  it('a new leader appends a no-op entry of its term and sends it to everyone', () => {
    const s = new Solo('a', { terms: [1], term: 1 });
    s.node.campaign();
    s.step({ type: MessageType.VoteResp, from: 'b', term: 2 });
    const rd = s.ready();
    expect(rd.entries).toHaveLength(1);
    expect(rd.entries[0]).toMatchObject({ index: 2, term: 2 });
    expect(rd.entries[0].data.byteLength).toBe(0);
    expect(
      only([...rd.messages], MessageType.App)
        .map((m) => m.to)
        .sort(),
    ).toEqual(['b', 'c']);
  });
});

describe('5.3 Log replication', () => {
  it('"The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel to each of the other servers"', () => {
    const net = new Net(['a', 'b', 'c'], paper);
    net.elect('a');
    const { index } = net.node('a').propose(enc('x'));
    const rd = net.node('a').ready();
    expect(rd.entries.map((e) => e.index)).toEqual([index]);
    const apps = only([...rd.messages], MessageType.App);
    expect(apps.map((m) => m.to).sort()).toEqual(['b', 'c']);
    for (const m of apps) expect(m.entries?.map((e) => e.index)).toEqual([index]);
    net.get('a').storage.persist(rd);
    net.node('a').advance(rd);
  });

  it('"A log entry is committed once the leader that created the entry has replicated it on a majority of the servers"', () => {
    const s = new Solo('a', { voters: ['a', 'b', 'c', 'd', 'e'] });
    s.node.campaign();
    s.step({ type: MessageType.VoteResp, from: 'b', term: 1 });
    s.step({ type: MessageType.VoteResp, from: 'c', term: 1 });
    s.ready();
    const { index } = s.node.propose(enc('x'));
    s.ready();
    s.step({ type: MessageType.AppResp, from: 'b', term: 1, index });
    expect(s.node.status().commit).toBe(0);
    s.step({ type: MessageType.AppResp, from: 'c', term: 1, index });
    expect(s.node.status().commit).toBe(index);
    expect(s.ready().committedEntries.map((e) => e.index)).toEqual([1, 2]);
  });

  it('"The leader keeps track of the highest index it knows to be committed, and it includes that index in future AppendEntries RPCs ... the follower applies the entry to its local state machine"', () => {
    const net = new Net(['a', 'b', 'c'], paper);
    net.elect('a');
    net.node('a').propose(enc('x'));
    net.settle();
    const lastApp = only(net.sent, MessageType.App)
      .filter((m) => m.to === 'b')
      .at(-1)!;
    expect(lastApp.commit).toBe(net.node('a').status().commit);
    expect(net.data('b')).toEqual(['x']);
    expect(net.node('b').status().commit).toBe(net.node('a').status().commit);
  });

  it('"If the follower does not find an entry in its log with the same index and term, then it refuses the new entries" (the consistency check)', () => {
    const s = new Solo('a', { terms: [1, 2, 2], term: 3 });
    s.step({
      type: MessageType.App,
      from: 'b',
      term: 3,
      index: 3,
      logTerm: 3,
      entries: [{ index: 4, term: 3, type: 0, data: enc('x') }],
      commit: 4,
    });
    const [resp] = only(s.msgs(), MessageType.AppResp);
    expect(resp).toMatchObject({ reject: true, index: 3 });
    expect(s.node.status().lastIndex).toBe(3);
    s.step({ type: MessageType.App, from: 'b', term: 3, index: 5, logTerm: 3, entries: [], commit: 4 });
    expect(only(s.msgs(), MessageType.AppResp)[0]).toMatchObject({ reject: true, index: 5 });
  });

  it('"If an existing entry conflicts with a new one (same index but different terms), delete the existing entry and all that follow it"', () => {
    const s = new Solo('a', { terms: [1, 1, 2, 2], term: 2, commit: 1 });
    s.step({
      type: MessageType.App,
      from: 'b',
      term: 3,
      index: 2,
      logTerm: 1,
      entries: [{ index: 3, term: 3, type: 0, data: enc('y') }],
      commit: 1,
    });
    const rd = s.ready();
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[3, 3]]);
    expect(s.logTerms()).toEqual([1, 1, 3]);
    const [resp] = only([...rd.messages], MessageType.AppResp);
    expect(resp.index).toBe(3);
    expect(resp.reject).toBeUndefined();
  });

  it('"Append any new entries not already in the log": a delayed duplicate AppendEntries does not truncate newer entries', () => {
    const s = new Solo('a', { terms: [1, 1, 1], term: 1 });
    s.step({
      type: MessageType.App,
      from: 'b',
      term: 1,
      index: 0,
      logTerm: 0,
      entries: [{ index: 1, term: 1, type: 0, data: enc('e1') }],
      commit: 0,
    });
    s.ready();
    expect(s.logTerms()).toEqual([1, 1, 1]);
  });

  it('"If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new entry)" (Figure 2)', () => {
    // The follower still has a stale entry of term 2 at index 3, past the batch the leader sends.
    const s = new Solo('a', { terms: [1, 1, 2], term: 3 });
    s.step({
      type: MessageType.App,
      from: 'b',
      term: 3,
      index: 1,
      logTerm: 1,
      entries: [{ index: 2, term: 1, type: 0, data: enc('e2') }],
      commit: 3,
    });
    const rd = s.ready();
    expect(s.node.status().commit).toBe(2);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    expect(only([...rd.messages], MessageType.AppResp)[0]).toMatchObject({ index: 2 });
    // Its stale entry is neither committed nor deleted (it does not conflict with anything sent yet).
    expect(s.logTerms()).toEqual([1, 1, 2]);
    // A commit index without new entries does not go past what the follower stores either.
    s.step({ type: MessageType.App, from: 'b', term: 3, index: 3, logTerm: 3, entries: [], commit: 9 });
    expect(s.node.status().commit).toBe(2);
  });

  it('"If commitIndex > lastApplied: increment lastApplied, apply log[lastApplied] to state machine" (in order, each once)', () => {
    const s = new Solo('a', { terms: [1, 1, 1, 1], term: 1 });
    const applied: number[] = [];
    for (const commit of [2, 2, 1, 4, 3]) {
      s.step({ type: MessageType.Heartbeat, from: 'b', term: 1, commit });
      applied.push(...s.ready().committedEntries.map((e) => e.index));
    }
    expect(applied).toEqual([1, 2, 3, 4]);
  });

  it('"When a leader first comes to power, it initializes all nextIndex values to the index just after the last one in its log" and decrements after a rejection until the logs match (Figure 7)', () => {
    // Figure 7's leader log (term 8 is the new leader's term) against each follower case (a)-(f).
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: number[][] = [
      [1, 1, 1, 4, 4, 5, 5, 6, 6],
      [1, 1, 1, 4],
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      [1, 1, 1, 4, 4, 4, 4],
      [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    ];
    for (const f of followers) {
      const net = new Net([], paper, false);
      // V holds the leader's log and gives it the vote that a follower with a newer log (d) refuses.
      const mk = (terms: number[]) => new Solo('x', { voters: ['L', 'F', 'V'], terms, term: 7 }).storage;
      net.add('L', [], mk(leaderTerms), paper);
      net.add('V', [], mk(leaderTerms), paper);
      net.add('F', [], mk(f), paper);
      net.elect('L');
      expect(net.node('L').softState.term).toBe(8);
      net.node('L').propose(enc('z'));
      net.settle();
      expect(net.get('F').storage.log.map((e) => e.term)).toEqual(net.get('L').storage.log.map((e) => e.term));
      expect(net.node('F').status().commit).toBe(12);
    }
  });

  it('"A leader never overwrites or deletes entries in its own log" (Leader Append-Only)', () => {
    const s = new Solo('a', { terms: [1, 1], term: 1 });
    s.node.campaign();
    s.step({ type: MessageType.VoteResp, from: 'b', term: 2 });
    s.ready();
    // A follower claims a conflicting longer log; the leader ignores it and keeps its entries.
    s.step({ type: MessageType.AppResp, from: 'b', term: 2, index: 2, reject: true, rejectHint: 5, hintTerm: 2 });
    s.step({
      type: MessageType.App,
      from: 'c',
      term: 2,
      index: 0,
      logTerm: 0,
      entries: [{ index: 1, term: 2, type: 0, data: enc('bad') }],
      commit: 0,
    });
    s.ready();
    expect(s.logTerms()).toEqual([1, 1, 2]);
    expect(s.node.softState.role).toBe(Role.Leader);
  });

  it('"If two entries in different logs have the same index and term, then the logs are identical in all preceding entries" (Log Matching, after churn)', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const net = new Net(ids, paper);
    const checkLogMatching = (): void => {
      const logs = ids.map((id) => net.get(id).storage.log);
      for (const x of logs) {
        for (const y of logs) {
          for (let i = Math.min(x.length, y.length) - 1; i >= 0; i--) {
            if (x[i].term !== y[i].term) continue;
            expect(x.slice(0, i + 1).map((e) => [e.term, e.data])).toEqual(
              y.slice(0, i + 1).map((e) => [e.term, e.data]),
            );
            break;
          }
        }
      }
    };
    let previous = '';
    for (const leader of ['a', 'b', 'c', 'd']) {
      net.isolate(...(previous ? [previous] : []));
      net.elect(leader);
      net.node(leader).propose(enc(`${leader}-committed`));
      net.settle();
      // Cut off, the leader appends entries nobody else gets: the logs diverge.
      net.isolate(leader);
      net.node(leader).propose(enc(`${leader}-lost-1`));
      net.node(leader).propose(enc(`${leader}-lost-2`));
      net.settle();
      checkLogMatching();
      previous = leader;
    }
    net.heal();
    net.elect('e');
    net.settle();
    checkLogMatching();
    for (const id of ids) expect(net.data(id)).toEqual(['a-committed', 'b-committed', 'c-committed', 'd-committed']);
  });
});

describe('5.4 Safety', () => {
  it('"the voter denies its vote if its own log is more up-to-date than that of the candidate" (5.4.1 up-to-date check)', () => {
    const cases: { index: number; logTerm: number; grant: boolean }[] = [
      { index: 3, logTerm: 2, grant: true }, // same last term, same length
      { index: 4, logTerm: 2, grant: true }, // same term, longer
      { index: 2, logTerm: 2, grant: false }, // same term, shorter
      { index: 1, logTerm: 3, grant: true }, // higher last term wins even if shorter
      { index: 9, logTerm: 1, grant: false }, // lower last term loses even if longer
    ];
    for (const c of cases) {
      const s = new Solo('a', { terms: [1, 2, 2], term: 2 });
      s.step({ type: MessageType.Vote, from: 'b', term: 3, index: c.index, logTerm: c.logTerm });
      const [resp] = only(s.msgs(), MessageType.VoteResp);
      expect(resp.reject !== true, JSON.stringify(c)).toBe(c.grant);
    }
  });

  it('"Raft never commits log entries from previous terms by counting replicas" (Figure 8)', () => {
    // The leader of term 3 has an entry of term 2 at index 2 that it replicates to a majority: no commit.
    const s = new Solo('a', { terms: [1, 2], term: 2, commit: 1 });
    s.node.campaign();
    s.step({ type: MessageType.VoteResp, from: 'b', term: 3 });
    s.ready();
    s.step({ type: MessageType.AppResp, from: 'b', term: 3, index: 2 });
    expect(s.node.status().commit).toBe(1);
    // "Only log entries from the leader's current term are committed by counting replicas"; once one is,
    // "all prior entries are committed indirectly because of the Log Matching Property".
    s.step({ type: MessageType.AppResp, from: 'b', term: 3, index: 3 });
    expect(s.node.status().commit).toBe(3);
  });

  it('Figure 8 end to end: an old-term entry replicated on a majority is overwritten only if it was never committed', () => {
    const net = new Net(['a', 'b', 'c', 'd', 'e'], paper);
    net.elect('a');
    // (a) a (term 2) replicates index 3 only to b.
    net.filter = (m) => m.from !== 'a' || m.to === 'b';
    net.node('a').propose(enc('term2'));
    net.settle();
    expect(net.node('a').status().commit).toBe(2);
    // (b) a crashes; e wins term 3 with c and d and appends entries locally only.
    net.filter = (m) =>
      ![m.from, m.to].some((x) => x === 'a' || x === 'b') && !(m.from === 'e' && m.type === MessageType.App);
    net.elect('e');
    net.node('e').propose(enc('term3'));
    net.settle();
    // (c) a restarts, wins term 4 and spreads its term-2 entry at index 3 to c and d, but not its own
    // no-op at index 4 (the network strips it): index 3 is on a majority yet must not be committed.
    net.filter = (m) =>
      m.from !== 'e' &&
      m.to !== 'e' &&
      (m.type !== MessageType.App || { ...m, entries: (m.entries ?? []).filter((e) => e.index <= 3) });
    net.restart('a');
    campaignUntilLeader(net, 'a');
    expect(net.node('a').softState.term).toBe(4);
    for (const id of ['a', 'b', 'c', 'd'])
      expect(
        net.get(id).storage.log.map((e) => e.term),
        id,
      ).toEqual(id === 'a' ? [1, 2, 2, 4] : id === 'b' || id === 'c' || id === 'd' ? [1, 2, 2] : []);
    expect(net.node('a').status().commit).toBe(2);
    expect(net.data('a')).toEqual([]);
    // (d) a crashes again: e can still win (its last term 3 beats 2) and overwrites index 3 everywhere.
    net.filter = (m) => m.from !== 'a' && m.to !== 'a';
    net.restart('e');
    campaignUntilLeader(net, 'e');
    net.node('e').propose(enc('after'));
    net.settle();
    for (const id of ['b', 'c', 'd', 'e']) expect(net.data(id)).toEqual(['term3', 'after']);
  });

  it('"a candidate must contact a majority ... in order to be elected, which means that every committed entry must be present in at least one of those servers" (Leader Completeness)', () => {
    const net = new Net(['a', 'b', 'c'], paper);
    net.elect('a');
    net.isolate('c');
    net.node('a').propose(enc('committed'));
    net.settle();
    expect(net.data('a')).toEqual(['committed']);
    // c missed the entry: it cannot win against b, which has it.
    net.filter = (m) => m.from !== 'a' && m.to !== 'a';
    net.node('c').campaign();
    net.settle();
    expect(net.node('c').softState.role).not.toBe(Role.Leader);
    net.elect('b');
    net.settle();
    expect(net.data('c')).toEqual(['committed']);
  });

  it('"If a follower or candidate crashes ... Raft RPCs are idempotent": receiving the same AppendEntries twice changes nothing', () => {
    const s = new Solo('a', { term: 1 });
    const app: Message = {
      type: MessageType.App,
      group: 'g',
      from: 'b',
      to: 'a',
      term: 1,
      index: 0,
      logTerm: 0,
      entries: [{ index: 1, term: 1, type: 0, data: enc('x') }],
      commit: 1,
    };
    s.node.step(app);
    const first = s.ready();
    s.node.step(app);
    const second = s.ready();
    expect(first.entries).toHaveLength(1);
    expect(second.entries).toHaveLength(0);
    expect(second.committedEntries).toHaveLength(0);
    expect(only([...second.messages], MessageType.AppResp)[0]).toMatchObject({ index: 1 });
  });
});
