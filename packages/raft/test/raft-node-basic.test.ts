import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../src/errors.js';
import { EntryType, MessageType, Role } from '../src/types.js';
import { enc, Net, Solo } from './core-harness.js';

describe('RaftNode basics', () => {
  it('bootstraps a group: entry 1 holds the initial voters and is committed', () => {
    const net = new Net(['a', 'b', 'c']);
    const rd = net.node('a').ready();
    expect(rd.hardState).toEqual({ term: 1, vote: '', commit: 1 });
    expect(rd.entries).toHaveLength(1);
    expect(rd.committedEntries).toHaveLength(1);
    expect(rd.mustSync).toBe(true);
    net.node('a').advance(rd);
    expect(net.node('a').confState().voters).toEqual(['a', 'b', 'c']);
  });

  it('elects a leader by ticking and replicates proposals to everyone', () => {
    const net = new Net(['a', 'b', 'c']);
    for (let i = 0; i < 100 && net.leaders().length === 0; i++) net.tickAll();
    const leaders = net.leaders();
    expect(leaders).toHaveLength(1);
    const leader = leaders[0];
    for (let i = 0; i < 10; i++) net.node(leader).propose(enc(`m${i}`));
    net.settle();
    for (const id of ['a', 'b', 'c']) expect(net.data(id)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it('a follower refuses proposals with the known leader', () => {
    const net = new Net(['a', 'b', 'c']);
    net.elect('a');
    expect(() => net.node('b').propose(enc('x'))).toThrow(NotLeaderError);
    try {
      net.node('b').propose(enc('x'));
    } catch (err) {
      expect((err as NotLeaderError).leader).toBe('a');
    }
  });

  it('a single-node group commits on its own', () => {
    const net = new Net(['a']);
    net.tickAll(30);
    expect(net.node('a').softState.role).toBe(Role.Leader);
    net.node('a').propose(enc('solo'));
    net.settle();
    expect(net.data('a')).toEqual(['solo']);
  });

  it('restarts from storage and keeps term, vote and log', () => {
    const net = new Net(['a', 'b', 'c']);
    net.elect('a');
    net.node('a').propose(enc('x'));
    net.settle();
    const before = net.node('b').status();
    net.restart('b');
    const after = net.node('b').status();
    expect(after.term).toBe(before.term);
    expect(after.lastIndex).toBe(before.lastIndex);
    expect(net.node('b').confState().voters).toEqual(['a', 'b', 'c']);
    net.node('a').propose(enc('y'));
    net.settle();
    expect(net.data('b')).toEqual(['x', 'y']);
  });

  it('a follower takes an App of 200 000 entries (no argument-count limits)', () => {
    const s = new Solo('b', { term: 1 });
    const data = new Uint8Array(0);
    const entries = Array.from({ length: 200_000 }, (_, i) => ({
      index: i + 1,
      term: 1,
      type: EntryType.Normal,
      data,
    }));
    s.step({ type: MessageType.App, from: 'a', term: 1, index: 0, logTerm: 0, entries, commit: 200_000 });
    const rd = s.ready();
    expect(rd.entries).toHaveLength(200_000);
    expect(rd.messages[0]).toMatchObject({ type: MessageType.AppResp, index: 200_000 });
  });
});
