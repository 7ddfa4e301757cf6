import { describe, expect, it } from 'vitest';
import { NotLeaderError, RaftError, TransferInProgressError } from '../src/errors.js';
import { ConfChangeType, MessageType, Role } from '../src/types.js';
import { enc, Net } from './core-harness.js';

const ids = ['a', 'b', 'c'];

describe('leadership transfer', () => {
  it('hands leadership to an up-to-date follower with TimeoutNow, even with leases (check-quorum)', () => {
    const net = new Net(ids, { checkQuorum: true, preVote: true });
    net.elect('a');
    const term = net.node('a').softState.term;
    net.node('a').transferLeadership('b');
    net.settle();
    expect(net.sent.filter((m) => m.type === MessageType.TimeoutNow).map((m) => m.to)).toEqual(['b']);
    expect(net.node('b').softState).toEqual({ role: Role.Leader, leader: 'b', term: term + 1 });
    expect(net.node('a').softState).toEqual({ role: Role.Follower, leader: 'b', term: term + 1 });
    net.node('b').propose(enc('after'));
    net.settle();
    expect(net.data('a')).toEqual(['after']);
  });

  it('first brings a lagging target up to date, then sends TimeoutNow', () => {
    const net = new Net(ids);
    net.elect('a');
    net.isolate('c');
    for (let i = 0; i < 5; i++) net.node('a').propose(enc(`m${i}`));
    net.settle();
    net.node('a').transferLeadership('c');
    net.settle();
    expect(net.sent.filter((m) => m.type === MessageType.TimeoutNow)).toEqual([]);
    expect(net.node('a').status().transferee).toBe('c');
    net.heal();
    net.tickAll(2);
    expect(net.node('c').softState.role).toBe(Role.Leader);
    expect(net.data('c')).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('refuses proposals and membership changes while a transfer is pending', () => {
    const net = new Net(ids);
    net.elect('a');
    net.isolate('c');
    net.node('a').propose(enc('x'));
    net.settle();
    net.node('a').transferLeadership('c');
    expect(() => net.node('a').propose(enc('y'))).toThrow(TransferInProgressError);
    expect(() => net.node('a').proposeConfChange({ type: ConfChangeType.AddLearner, node: 'd' })).toThrow(
      TransferInProgressError,
    );
  });

  it('gives up after an election timeout, and the old leader accepts proposals again', () => {
    const net = new Net(ids, { electionTick: 10 });
    net.elect('a');
    net.isolate('c');
    net.node('a').propose(enc('x'));
    net.settle();
    net.node('a').transferLeadership('c');
    net.tickAll(10, ['a', 'b']);
    expect(net.node('a').status().transferee).toBe('');
    expect(net.node('a').softState.role).toBe(Role.Leader);
    expect(() => net.node('a').propose(enc('y'))).not.toThrow();
  });

  it('rejects a transfer on a follower or to a non-voter', () => {
    const net = new Net(ids);
    net.elect('a');
    expect(() => net.node('b').transferLeadership('c')).toThrow(NotLeaderError);
    expect(() => net.node('a').transferLeadership('zz')).toThrow(RaftError);
    net.node('a').transferLeadership('a'); // already the leader: nothing to do
    expect(net.node('a').status().transferee).toBe('');
  });

  it('a follower that gets TimeoutNow campaigns at once, skipping pre-vote', () => {
    const net = new Net(ids, { preVote: true });
    net.elect('a');
    net.sent = [];
    net.node('a').transferLeadership('c');
    net.settle();
    expect(net.sent.some((m) => m.type === MessageType.PreVote)).toBe(false);
    expect(net.sent.filter((m) => m.type === MessageType.Vote && m.from === 'c').length).toBe(2);
  });
});
