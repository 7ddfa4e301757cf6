import { describe, expect, it } from 'vitest';
import { decodeConfChangeEntry, encodeConfChangeEntry } from '../src/codec.js';
import { ConfChangeRejectedError } from '../src/errors.js';
import type { ConfChange } from '../src/types.js';
import { ConfChangeType, EntryType, MessageType, Role } from '../src/types.js';
import { enc, Net, Solo } from './core-harness.js';

const ids = ['a', 'b', 'c'];
const addLearner = (node: string): ConfChange => ({ type: ConfChangeType.AddLearner, node });
const addVoter = (node: string): ConfChange => ({ type: ConfChangeType.AddVoter, node });
const remove = (node: string): ConfChange => ({ type: ConfChangeType.RemoveNode, node });

function rejected(fn: () => unknown): ConfChangeRejectedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfChangeRejectedError) return err;
    throw err;
  }
  throw new Error('expected a ConfChangeRejectedError');
}

describe('membership changes (single-server, effective on append)', () => {
  it('a learner gets the whole log but never votes nor counts for commit', () => {
    const net = new Net(ids);
    net.elect('a');
    net.add('d');
    net.node('a').proposeConfChange(addLearner('d'));
    net.node('a').propose(enc('x'));
    net.settle();
    expect(net.data('d')).toEqual(['x']);
    expect(net.node('d').confState()).toMatchObject({ voters: ids, learners: ['d'] });
    // Only the learner and one voter store the next entry: not a majority of voters.
    net.filter = (m) => m.from !== 'c' && m.to !== 'c' && m.to !== 'b';
    net.node('a').propose(enc('y'));
    net.settle();
    expect(net.data('a')).toEqual(['x']);
    // A learner never campaigns and is never asked for its vote.
    net.heal();
    net.tickAll(50, ['d']);
    expect(net.node('d').softState.role).toBe(Role.Follower);
    net.node('b').campaign();
    net.settle();
    expect(
      net.sent.filter((m) => (m.type === MessageType.Vote || m.type === MessageType.PreVote) && m.to === 'd'),
    ).toEqual([]);
  });

  it('promoting a caught-up learner makes it a voter that counts towards the quorum', () => {
    const net = new Net(ids);
    net.elect('a');
    net.add('d');
    net.node('a').proposeConfChange(addLearner('d'));
    net.settle();
    expect(net.node('a').status().progress.d).toMatchObject({ learner: true, state: 'replicate' });
    net.node('a').proposeConfChange(addVoter('d'));
    net.settle();
    for (const id of [...ids, 'd'])
      expect(net.node(id).confState()).toMatchObject({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    // 4 voters: a majority is 3, so a and d alone cannot commit; a, b and d can.
    net.filter = (m) => !['b', 'c'].includes(m.to) && !['b', 'c'].includes(m.from);
    net.node('a').propose(enc('x'));
    net.settle();
    expect(net.data('a')).toEqual([]);
    net.filter = (m) => m.to !== 'c' && m.from !== 'c';
    net.tickAll(2);
    expect(net.data('a')).toEqual(['x']);
  });

  it('allows one pending change at a time, and only after the leader committed an entry of its term', () => {
    const s = new Solo('a', { voters: ['a', 'b', 'c'] });
    s.node.campaign();
    s.step({ type: MessageType.VoteResp, from: 'b', term: 1 });
    s.ready();
    const early = rejected(() => s.node.proposeConfChange(addLearner('d')));
    expect(early.retriable).toBe(true);
    s.step({ type: MessageType.AppResp, from: 'b', term: 1, index: 1 });
    s.ready();
    const { index } = s.node.proposeConfChange(addLearner('d'));
    expect(rejected(() => s.node.proposeConfChange(addLearner('e'))).retriable).toBe(true);
    s.ready();
    s.step({ type: MessageType.AppResp, from: 'b', term: 1, index });
    s.ready();
    expect(() => s.node.proposeConfChange(addLearner('e'))).not.toThrow();
  });

  it('refuses changes that make no sense, without retry', () => {
    const net = new Net(ids);
    net.elect('a');
    for (const change of [addVoter('b'), remove('zz'), addLearner('c'), { type: ConfChangeType.AddVoter, node: '' }]) {
      expect(rejected(() => net.node('a').proposeConfChange(change)).retriable).toBe(false);
    }
    const solo = new Net(['a']);
    solo.tickAll(30);
    expect(rejected(() => solo.node('a').proposeConfChange(remove('a'))).retriable).toBe(false);
  });

  it('removing a follower shrinks the quorum; the removed node no longer hears from the group', () => {
    const net = new Net(ids);
    net.elect('a');
    net.node('a').proposeConfChange(remove('c'));
    net.settle();
    expect(net.node('a').confState().voters).toEqual(['a', 'b']);
    expect(net.node('a').status().progress.c).toBeUndefined();
    net.sent = [];
    net.node('a').propose(enc('x'));
    net.tickAll(3, ['a', 'b']);
    expect(net.data('b')).toEqual(['x']);
    expect(net.sent.filter((m) => m.to === 'c')).toEqual([]);
    // The removed node is not in its own configuration, so it never campaigns.
    expect(net.node('c').confState().voters).toEqual(['a', 'b']);
    net.tickAll(50, ['c']);
    expect(net.node('c').softState.role).toBe(Role.Follower);
  });

  it('a leader that removes itself leads until the change commits, then steps down and hands over', () => {
    const net = new Net(ids, { checkQuorum: true });
    net.elect('a');
    const { index } = net.node('a').proposeConfChange(remove('a'));
    expect(net.node('a').softState.role).toBe(Role.Leader);
    net.settle();
    expect(net.node('a').status().commit).toBeGreaterThanOrEqual(index);
    expect(net.node('a').softState.role).toBe(Role.Follower);
    expect(net.sent.some((m) => m.type === MessageType.TimeoutNow && m.from === 'a')).toBe(true);
    const leaders = net.leaders();
    expect(leaders).toHaveLength(1);
    expect(leaders[0]).not.toBe('a');
    net.node(leaders[0]).propose(enc('after'));
    net.settle();
    expect(net.data('b')).toEqual(['after']);
    expect(net.data('c')).toEqual(['after']);
  });

  it('a change takes effect when appended, and a truncated change is reverted', () => {
    const s = new Solo('d', { voters: ['a', 'b', 'c'], terms: [1], term: 1, commit: 1 });
    const conf = { voters: ['a', 'b', 'c', 'd'], learners: [], votersOutgoing: [] };
    s.step({
      type: MessageType.App,
      from: 'a',
      term: 2,
      index: 1,
      logTerm: 1,
      entries: [
        { index: 2, term: 2, type: EntryType.ConfChange, data: encodeConfChangeEntry({ change: addVoter('d'), conf }) },
      ],
      commit: 1,
    });
    s.ready();
    expect(s.node.confState().voters).toEqual(['a', 'b', 'c', 'd']);
    // A new leader of term 3 overwrites index 2: the configuration goes back to the previous one.
    s.step({
      type: MessageType.App,
      from: 'b',
      term: 3,
      index: 1,
      logTerm: 1,
      entries: [{ index: 2, term: 3, type: EntryType.Normal, data: enc('n') }],
      commit: 1,
    });
    s.ready();
    expect(s.node.confState().voters).toEqual(['a', 'b', 'c']);
  });

  it('a node added later learns the whole membership from the log, and keeps it across a restart', () => {
    const net = new Net(ids);
    net.elect('a');
    net.add('d');
    expect(net.node('d').confState().voters).toEqual([]);
    net.node('a').proposeConfChange(addVoter('d'));
    net.settle();
    expect(net.node('d').confState().voters).toEqual(['a', 'b', 'c', 'd']);
    const applied = net
      .get('d')
      .applied.filter((e) => e.type === EntryType.ConfChange)
      .map((e) => decodeConfChangeEntry(e.data));
    expect(applied[0].change).toBeUndefined(); // the bootstrap entry
    expect(applied.at(-1)!.change).toEqual(addVoter('d'));
    net.restart('d');
    expect(net.node('d').confState().voters).toEqual(['a', 'b', 'c', 'd']);
    net.restart('a');
    net.tickAll(40);
    expect(net.leaders()).toHaveLength(1);
  });
});
