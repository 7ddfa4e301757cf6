import { describe, expect, it } from 'vitest';
import { MessageType, Role } from '../src/types.js';
import { enc, Net, Solo } from './core-harness.js';

const ids = ['a', 'b', 'c'];

describe('Pre-Vote', () => {
  it('a partitioned node does not inflate its term', () => {
    const net = new Net(ids, { preVote: true, checkQuorum: false });
    net.elect('a');
    const term = net.node('a').softState.term;
    net.isolate('c');
    net.tickAll(100, ['c']);
    expect(net.node('c').softState.term).toBe(term);
    expect(net.node('c').softState.role).toBe(Role.PreCandidate);
  });

  it('the partitioned node rejoins without deposing the leader', () => {
    const net = new Net(ids, { preVote: true, checkQuorum: false });
    net.elect('a');
    const term = net.node('a').softState.term;
    net.isolate('c');
    net.tickAll(100, ['c']);
    net.heal();
    net.node('a').propose(enc('x'));
    net.tickAll(5);
    expect(net.node('a').softState).toEqual({ role: Role.Leader, leader: 'a', term });
    expect(net.node('c').softState).toEqual({ role: Role.Follower, leader: 'a', term });
    expect(net.data('c')).toEqual(['x']);
  });

  it('a won pre-vote is followed by a real election in exactly the next term', () => {
    const net = new Net(ids, { preVote: true });
    net.elect('b');
    const term = net.node('b').softState.term;
    expect(term).toBe(2);
    const preVotes = net.sent.filter((m) => m.type === MessageType.PreVote);
    expect(preVotes.length).toBe(2);
    for (const m of preVotes) expect(m.term).toBe(2);
  });

  it('a pre-vote asks for the next term without changing the voter term or vote', () => {
    const s = new Solo('a', { term: 3, vote: 'b', preVote: true });
    s.step({ type: MessageType.PreVote, from: 'c', term: 4, index: 0, logTerm: 0 });
    const [resp] = s.msgs();
    expect(resp).toMatchObject({ type: MessageType.PreVoteResp, to: 'c', term: 4 });
    expect(resp.reject).toBeUndefined();
    expect(s.node.softState.term).toBe(3);
    expect(s.storage.hard).toMatchObject({ term: 3, vote: 'b' });
  });

  it('a pre-vote from a candidate with a less up-to-date log is rejected with our term', () => {
    const s = new Solo('a', { terms: [1, 2], term: 2, preVote: true });
    s.step({ type: MessageType.PreVote, from: 'c', term: 3, index: 5, logTerm: 1 });
    expect(s.msgs()[0]).toMatchObject({ type: MessageType.PreVoteResp, reject: true, term: 2 });
  });

  it('a pre-candidate that hears from a leader of its term goes back to follower', () => {
    const s = new Solo('a', { term: 2, preVote: true });
    s.node.campaign();
    expect(s.node.softState.role).toBe(Role.PreCandidate);
    s.step({ type: MessageType.Heartbeat, from: 'b', term: 2, commit: 0 });
    expect(s.node.softState).toEqual({ role: Role.Follower, leader: 'b', term: 2 });
  });
});

describe('Check-Quorum', () => {
  it('a leader that hears no quorum within an election timeout steps down', () => {
    const net = new Net(ids, { checkQuorum: true, electionTick: 10 });
    net.elect('a');
    net.isolate('a');
    net.tickAll(10, ['a']);
    expect(net.node('a').softState.role).toBe(Role.Leader);
    net.tickAll(11, ['a']);
    expect(net.node('a').softState.role).toBe(Role.Follower);
  });

  it('a leader that hears a quorum stays leader indefinitely', () => {
    const net = new Net(ids, { checkQuorum: true, electionTick: 10 });
    net.elect('a');
    net.filter = (m) => m.from !== 'c' && m.to !== 'c';
    net.tickAll(100);
    expect(net.node('a').softState.role).toBe(Role.Leader);
  });

  it('followers with a live leader ignore vote requests (leader lease)', () => {
    const net = new Net(ids, { checkQuorum: true, preVote: false });
    net.elect('a');
    const term = net.node('a').softState.term;
    net.node('c').campaign(); // e.g. c lost a few heartbeats only
    net.settle();
    expect(net.node('a').softState).toMatchObject({ role: Role.Leader, term });
    expect(net.node('b').softState.term).toBe(term);
    // c is stuck at a higher term; it rejoins once the leader's answer to its stale responses tells it.
    net.tickAll(30);
    expect(net.leaders()).toHaveLength(1);
  });

  it('a vote request from a leadership transfer overrides the lease', () => {
    const s = new Solo('a', { term: 2, checkQuorum: true });
    s.step({ type: MessageType.Heartbeat, from: 'b', term: 2, commit: 0 });
    s.msgs();
    s.step({ type: MessageType.Vote, from: 'c', term: 3, index: 0, logTerm: 0 });
    expect(s.msgs()).toEqual([]);
    s.step({ type: MessageType.Vote, from: 'c', term: 3, index: 0, logTerm: 0, context: new Uint8Array([0x74]) });
    expect(s.msgs()[0]).toMatchObject({ type: MessageType.VoteResp, term: 3 });
  });

  it('after an election timeout without a leader, a follower votes again', () => {
    const s = new Solo('a', { term: 2, checkQuorum: true, electionTick: 10 });
    s.step({ type: MessageType.Heartbeat, from: 'b', term: 2, commit: 0 });
    s.ticks(10);
    s.msgs();
    s.step({ type: MessageType.Vote, from: 'c', term: 3, index: 0, logTerm: 0 });
    expect(s.msgs().filter((m) => m.type === MessageType.VoteResp)).toHaveLength(1);
  });

  it('a follower keeps its lease promise across a restart: no vote for an election timeout after it', () => {
    const s = new Solo('a', { term: 2, checkQuorum: true, electionTick: 10 });
    s.step({ type: MessageType.Heartbeat, from: 'b', term: 2, commit: 0 });
    s.msgs();
    // Crash and restart right after answering b: it no longer knows b leads, but b counts on its answer.
    const restarted = new Solo('a', { term: 2, checkQuorum: true, electionTick: 10 });
    restarted.step({ type: MessageType.PreVote, from: 'c', term: 3, index: 0, logTerm: 0 });
    restarted.step({ type: MessageType.Vote, from: 'c', term: 3, index: 0, logTerm: 0 });
    expect(restarted.msgs()).toEqual([]);
    expect(restarted.node.softState.term).toBe(2);
    restarted.ticks(9);
    restarted.step({ type: MessageType.Vote, from: 'c', term: 3, index: 0, logTerm: 0 });
    expect(restarted.msgs()).toEqual([]);
    // An election timeout after the restart the promise has expired (here it also campaigns itself).
    restarted.ticks(1);
    restarted.msgs();
    restarted.step({ type: MessageType.Vote, from: 'c', term: 4, index: 0, logTerm: 0 });
    expect(restarted.msgs()).toMatchObject([{ type: MessageType.VoteResp, to: 'c', term: 4 }]);
    expect(restarted.storage.hard).toMatchObject({ term: 4, vote: 'c' });
  });

  it('a restarted group elects a leader (the restart lease only delays the first votes)', () => {
    const net = new Net(ids, { checkQuorum: true, preVote: true, electionTick: 10 });
    net.elect('a');
    net.node('a').propose(enc('x'));
    net.settle();
    for (const id of ids) net.restart(id);
    net.tickAll(60);
    expect(net.leaders()).toHaveLength(1);
  });

  it('a stale leader receiving a newer term in an App answer steps down', () => {
    const net = new Net(ids, { checkQuorum: true, preVote: true });
    net.elect('a');
    net.isolate('a');
    net.tickAll(30, ['b', 'c']);
    expect(net.leaders().filter((l) => l !== 'a')).toHaveLength(1);
    net.heal();
    net.node('a').propose(enc('stale'));
    net.settle();
    expect(net.node('a').softState.role).toBe(Role.Follower);
    net.tickAll(3);
    expect(net.data('a')).not.toContain('stale');
  });
});
