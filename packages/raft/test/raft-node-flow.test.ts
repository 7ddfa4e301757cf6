import { describe, expect, it } from 'vitest';
import { ProposalDroppedError } from '../src/errors.js';
import type { Message } from '../src/types.js';
import { MessageType } from '../src/types.js';
import { enc, Net, Solo } from './core-harness.js';

/** A leader of term 2 whose followers b and c matched its log (replicate state). */
function leader(opts: ConstructorParameters<typeof Solo>[1] = {}): Solo {
  const s = new Solo('a', { terms: [1], term: 1, commit: 1, ...opts });
  s.node.campaign();
  s.step({ type: MessageType.VoteResp, from: 'b', term: 2 });
  s.ready();
  for (const from of ['b', 'c']) s.step({ type: MessageType.AppResp, from, term: 2, index: 2 });
  s.ready();
  return s;
}

const appsTo = (msgs: Message[], to: string): Message[] =>
  msgs.filter((m) => m.type === MessageType.App && m.to === to);

describe('flow control', () => {
  it('batches every proposal made between two ready cycles into one App per follower', () => {
    const s = leader();
    for (let i = 0; i < 50; i++) s.node.propose(enc(`m${i}`));
    const apps = appsTo(s.msgs(), 'b');
    expect(apps).toHaveLength(1);
    expect(apps[0].entries).toHaveLength(50);
  });

  it('splits by maxSizePerMsg and pipelines up to maxInflightMsgs Apps without waiting', () => {
    const s = leader({ maxSizePerMsg: 100, maxInflightMsgs: 3 });
    for (let i = 0; i < 30; i++) s.node.propose(new Uint8Array(40)); // 56 bytes each with overhead
    const apps = appsTo(s.msgs(), 'b');
    expect(apps).toHaveLength(3);
    for (const a of apps) expect(a.entries).toHaveLength(1);
    expect(apps.map((a) => a.index)).toEqual([2, 3, 4]);
    // An answer frees one slot and lets one more App go.
    s.step({ type: MessageType.AppResp, from: 'b', term: 2, index: 3 });
    const more = appsTo(s.msgs(), 'b');
    expect(more).toHaveLength(1);
    expect(more[0].index).toBe(5);
  });

  it('bounds the bytes in flight per follower', () => {
    const s = leader({ maxSizePerMsg: 1 << 20, maxInflightBytes: 1000, maxInflightMsgs: 100 });
    for (let i = 0; i < 10; i++) {
      s.node.propose(new Uint8Array(300));
      s.ready();
    }
    // Entries 3.. carry 316 bytes each: after 4 Apps (1264 >= 1000 bytes) the window is full, whatever
    // the count limit; the window may overshoot by at most one App.
    expect(s.node.status().progress.b.next).toBe(7);
    s.step({ type: MessageType.AppResp, from: 'b', term: 2, index: 6 });
    const after = appsTo(s.msgs(), 'b');
    expect(after.length).toBeGreaterThan(0);
  });

  it('probes one App at a time until the follower answers', () => {
    const s = new Solo('a', { terms: [1], term: 1, commit: 1 });
    s.node.campaign();
    s.step({ type: MessageType.VoteResp, from: 'b', term: 2 });
    s.ready();
    for (let i = 0; i < 5; i++) {
      s.node.propose(enc(`m${i}`));
      s.ready();
    }
    expect(s.node.status().progress.c).toMatchObject({ state: 'probe' });
    // No answer from c yet: the first probe only; heartbeat answers let one more probe out.
    s.step({ type: MessageType.HeartbeatResp, from: 'c', term: 2 });
    expect(appsTo(s.msgs(), 'c')).toHaveLength(1);
    s.step({ type: MessageType.HeartbeatResp, from: 'c', term: 2 });
    expect(appsTo(s.msgs(), 'c')).toHaveLength(1);
  });

  it('backtracks a conflicting follower by whole terms, not one entry per round trip', () => {
    // Without check-quorum: freshly started nodes would otherwise keep their restart lease (no votes) first.
    const net = new Net([], { checkQuorum: false }, false);
    const voters = ['a', 'b', 'c'];
    const leaderLog = [1, ...Array<number>(60).fill(3)];
    const followerLog = [1, ...Array<number>(200).fill(2)];
    net.add('a', [], new Solo('x', { voters, terms: leaderLog, term: 3 }).storage);
    net.add('b', [], new Solo('x', { voters, terms: leaderLog, term: 3 }).storage);
    net.add('c', [], new Solo('x', { voters, terms: followerLog, term: 3 }).storage);
    net.elect('a');
    net.settle();
    const rejects = net.sent.filter((m) => m.type === MessageType.AppResp && m.from === 'c' && m.reject === true);
    expect(rejects.length).toBeLessThanOrEqual(2);
    expect(net.get('c').storage.log.map((e) => e.term)).toEqual(net.get('a').storage.log.map((e) => e.term));
  });

  it('refuses proposals past maxUncommittedBytes until entries commit', () => {
    const s = leader({ maxUncommittedBytes: 1000 });
    s.node.propose(new Uint8Array(600));
    expect(() => s.node.propose(new Uint8Array(600))).toThrow(ProposalDroppedError);
    const { index } = s.node.propose(new Uint8Array(10)) ?? { index: 0 };
    s.ready();
    s.step({ type: MessageType.AppResp, from: 'b', term: 2, index });
    s.ready();
    expect(() => s.node.propose(new Uint8Array(600))).not.toThrow();
  });

  it('a lost App in replicate state is detected on the next heartbeat answer', () => {
    const net = new Net(['a', 'b', 'c'], { maxInflightMsgs: 1 });
    net.elect('a');
    net.filter = (m) => !(m.type === MessageType.App && m.to === 'c');
    net.node('a').propose(enc('lost'));
    net.settle();
    net.heal();
    for (let i = 0; i < 5; i++) net.node('a').propose(enc(`m${i}`));
    net.tickAll(3);
    expect(net.data('c')).toEqual(['lost', 'm0', 'm1', 'm2', 'm3', 'm4']);
  });
});
