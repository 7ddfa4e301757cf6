import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../src/errors.js';
import { MessageType, Role } from '../src/types.js';
import { enc, Net, Solo } from './core-harness.js';

const ids = ['a', 'b', 'c'];
const ctx = (s: string): Uint8Array => enc(s);
const ctxs = (net: Net, id: string): string[] => net.get(id).readStates.map((r) => new TextDecoder().decode(r.context));

describe('ReadIndex', () => {
  it('answers with the commit index once a heartbeat round carrying the context reaches a quorum', () => {
    const net = new Net(ids);
    net.elect('a');
    net.node('a').propose(enc('x'));
    net.settle();
    const commit = net.node('a').status().commit;
    net.sent = [];
    net.node('a').readIndex(ctx('r1'));
    net.cycle(); // the heartbeats go out...
    expect(net.get('a').readStates).toEqual([]);
    const hbs = net.sent.filter((m) => m.type === MessageType.Heartbeat);
    expect(hbs.map((m) => new TextDecoder().decode(m.context))).toEqual(['r1', 'r1']);
    net.settle(); // ...and their answers confirm leadership
    expect(net.get('a').readStates).toEqual([{ index: commit, context: ctx('r1') }]);
  });

  it('a leader cut off from the quorum never answers (and steps down with check-quorum)', () => {
    const net = new Net(ids, { checkQuorum: true });
    net.elect('a');
    net.isolate('a');
    net.node('a').readIndex(ctx('r1'));
    net.tickAll(25, ['a']);
    expect(net.get('a').readStates).toEqual([]);
    expect(net.node('a').softState.role).toBe(Role.Follower);
  });

  it('one quorum answer releases every earlier pending read, in order', () => {
    const net = new Net(ids);
    net.elect('a');
    net.isolate('b', 'c');
    net.node('a').readIndex(ctx('r1'));
    net.node('a').readIndex(ctx('r2'));
    net.settle();
    net.heal();
    net.node('a').readIndex(ctx('r3'));
    net.settle();
    expect(ctxs(net, 'a')).toEqual(['r1', 'r2', 'r3']);
  });

  it('lost heartbeats are retried by the next heartbeat, which carries the latest pending context', () => {
    const net = new Net(ids);
    net.elect('a');
    net.isolate('b', 'c');
    net.node('a').readIndex(ctx('r1'));
    net.settle();
    net.heal();
    net.tickAll(1);
    expect(ctxs(net, 'a')).toEqual(['r1']);
  });

  it('waits until the new leader committed an entry of its term', () => {
    const s = new Solo('a', { terms: [1, 1], term: 1, commit: 2 });
    s.node.campaign();
    s.step({ type: MessageType.VoteResp, from: 'b', term: 2 });
    s.ready();
    s.node.readIndex(ctx('early'));
    expect(s.ready().messages.filter((m) => m.context !== undefined)).toEqual([]);
    s.step({ type: MessageType.AppResp, from: 'b', term: 2, index: 3 });
    const hbs = s.ready().messages.filter((m) => m.type === MessageType.Heartbeat);
    expect(hbs).toHaveLength(2);
    s.step({ type: MessageType.HeartbeatResp, from: 'b', term: 2, context: ctx('early') });
    expect(s.ready().readStates).toEqual([{ index: 3, context: ctx('early') }]);
  });

  it('only the leader serves reads', () => {
    const net = new Net(ids);
    net.elect('a');
    expect(() => net.node('b').readIndex(ctx('x'))).toThrow(NotLeaderError);
  });

  it('a single-node group answers at once', () => {
    const net = new Net(['a']);
    net.tickAll(30);
    net.node('a').readIndex(ctx('solo'));
    net.cycle();
    expect(ctxs(net, 'a')).toEqual(['solo']);
  });

  it('the leader stepping down drops pending reads (callers time out and retry)', () => {
    const net = new Net(ids);
    net.elect('a');
    net.isolate('a');
    net.node('a').readIndex(ctx('r1'));
    net.node('a').step({ type: MessageType.Heartbeat, group: 'g', from: 'b', to: 'a', term: 10, commit: 0 });
    net.heal();
    net.settle();
    expect(net.get('a').readStates).toEqual([]);
  });
});

describe('lease reads', () => {
  it('with check-quorum, answer at once while a quorum answered within the election timeout', () => {
    const net = new Net(ids, { checkQuorum: true });
    net.elect('a');
    net.tickAll(2);
    net.sent = [];
    net.node('a').readIndex(ctx('lease'), { lease: true });
    net.cycle();
    expect(ctxs(net, 'a')).toEqual(['lease']);
    expect(net.sent.filter((m) => m.context !== undefined)).toEqual([]);
  });

  it('fall back to a heartbeat round once the lease expired', () => {
    const net = new Net(ids, { checkQuorum: true, electionTick: 10 });
    net.elect('a');
    net.tickAll(2);
    net.isolate('a');
    // Heartbeats sent at tick 2 were answered: the lease holds while fewer than 9 ticks have passed.
    net.tickAll(8, ['a']);
    net.node('a').readIndex(ctx('in-lease'), { lease: true });
    net.tickAll(1, ['a']);
    net.node('a').readIndex(ctx('late'), { lease: true });
    net.cycle();
    expect(ctxs(net, 'a')).toEqual(['in-lease']);
    expect(net.node('a').softState.role).toBe(Role.Leader);
  });

  it('the lease is measured from when the answered heartbeat was sent, not from the answer', () => {
    const net = new Net(ids, { checkQuorum: true, electionTick: 10 });
    net.elect('a');
    // Heartbeats of tick 1 are answered only at tick 8 (a slow network).
    net.node('a').tick();
    net.cycle();
    const held = net.queue;
    net.queue = [];
    net.isolate('a');
    net.tickAll(6, ['a']);
    net.heal();
    net.queue = held;
    net.settle(); // b and c answer the tick-1 heartbeats now
    net.isolate('a');
    net.tickAll(3, ['a']); // tick 10: 9 ticks after the answered heartbeats were sent, 3 after the answers
    net.node('a').readIndex(ctx('slow'), { lease: true });
    net.cycle();
    expect(ctxs(net, 'a')).toEqual([]);
  });

  it('a leader that sent TimeoutNow serves no lease read for the rest of its term (F2: the transfer voids the lease)', () => {
    const net = new Net(ids, { checkQuorum: true, preVote: true, electionTick: 10 });
    net.elect('a');
    net.tickAll(2);
    // a hears nothing more from b and c, so its lease (answers to the tick-2 heartbeats) still looks valid.
    net.filter = (m) => m.to !== 'a';
    net.node('a').transferLeadership('b');
    net.settle(); // TimeoutNow: b campaigns with the transfer flag, c votes for it despite a's lease
    expect(net.node('b').softState.role).toBe(Role.Leader);
    net.node('b').propose(enc('after'));
    net.settle();
    expect(net.data('b')).toEqual(['after']);
    expect(net.node('a').softState.role).toBe(Role.Leader);
    net.node('a').readIndex(ctx('stale?'), { lease: true });
    net.cycle();
    expect(ctxs(net, 'a')).toEqual([]);
    // Even once the transfer timed out, the lease stays void for this term...
    net.tickAll(10, ['a']);
    net.node('a').readIndex(ctx('still?'), { lease: true });
    net.cycle();
    expect(ctxs(net, 'a')).toEqual([]);
    // ...and the heartbeat round the reads fell back to meets the new term: a steps down, answering none.
    net.heal();
    net.settle();
    expect(net.node('a').softState.role).toBe(Role.Follower);
    expect(ctxs(net, 'a')).toEqual([]);
  });

  it('without check-quorum a lease read is a normal ReadIndex', () => {
    const net = new Net(ids, { checkQuorum: false });
    net.elect('a');
    net.tickAll(2);
    net.sent = [];
    net.node('a').readIndex(ctx('nolease'), { lease: true });
    net.cycle();
    expect(ctxs(net, 'a')).toEqual([]);
    net.settle();
    expect(ctxs(net, 'a')).toEqual(['nolease']);
  });
});
