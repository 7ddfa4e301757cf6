import { describe, expect, it } from 'vitest';
import { SnapshotAssembler, SnapshotSender } from '../src/snapshot-transfer.js';
import type { Snapshot } from '../src/types.js';
import { ConfChangeType, MessageType } from '../src/types.js';
import type { Net } from './core-harness.js';
import { enc, Net as Network } from './core-harness.js';

const ids = ['a', 'b', 'c'];

/** The application of `id` snapshots its state (the applied data, padded to `size` bytes) and compacts. */
function takeSnapshot(net: Net, id: string, size = 0): Snapshot {
  const m = net.get(id);
  const applied = m.node.status().applied;
  const body = enc(JSON.stringify(net.data(id)));
  const data = new Uint8Array(Math.max(size, body.byteLength + 4));
  new DataView(data.buffer).setUint32(0, body.byteLength);
  data.set(body, 4);
  const snap: Snapshot = { meta: m.node.snapshotMeta(applied), data };
  m.storage.compact(snap);
  m.node.snapshotTaken(snap);
  return snap;
}

function snapshotValues(s: Snapshot): string[] {
  const len = new DataView(s.data.buffer, s.data.byteOffset).getUint32(0);
  return JSON.parse(new TextDecoder().decode(s.data.subarray(4, 4 + len))) as string[];
}

describe('snapshots', () => {
  it('snapshotMeta gives the term and the membership in force at the index', () => {
    const net = new Network(ids);
    net.elect('a');
    net.node('a').propose(enc('x'));
    net.settle();
    net.add('d');
    net.node('a').proposeConfChange({ type: ConfChangeType.AddLearner, node: 'd' });
    net.settle();
    const status = net.node('a').status();
    const meta = net.node('a').snapshotMeta(3);
    expect(meta).toEqual({ index: 3, term: status.term, conf: { voters: ids, learners: [], votersOutgoing: [] } });
    expect(net.node('a').snapshotMeta(status.applied).conf.learners).toEqual(['d']);
    expect(() => net.node('a').snapshotMeta(status.applied + 1)).toThrow(RangeError);
  });

  it('a follower behind the compacted log gets the snapshot in chunks, installs it, then the entries after it', () => {
    const net = new Network(ids, { snapshotChunkBytes: 100 });
    net.elect('a');
    net.isolate('c');
    for (let i = 0; i < 20; i++) net.node('a').propose(enc(`m${i}`));
    net.settle();
    const snap = takeSnapshot(net, 'a', 1000);
    net.node('a').propose(enc('after'));
    net.settle();
    net.heal();
    net.sent = [];
    net.tickAll(3);
    const chunks = net.sent.filter((m) => m.type === MessageType.Snap);
    expect(chunks.length).toBe(10);
    for (const m of chunks) expect(m.snapshot!.data.byteLength).toBeLessThanOrEqual(100);
    expect(chunks.map((m) => m.snapshot!.offset)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(chunks.at(-1)!.snapshot!.done).toBe(true);
    const installed = net.get('c').installed;
    expect(installed).toHaveLength(1);
    expect(installed[0].meta).toEqual(snap.meta);
    expect(installed[0].data).toEqual(snap.data);
    expect(snapshotValues(installed[0])).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(net.data('c')).toEqual(['after']);
    expect(net.node('a').status().progress.c).toMatchObject({ state: 'replicate' });
  });

  it('lost chunks are resent after the transfer stalls for an election timeout', () => {
    const net = new Network(ids, { snapshotChunkBytes: 100, electionTick: 10 });
    net.elect('a');
    net.isolate('c');
    for (let i = 0; i < 5; i++) net.node('a').propose(enc(`m${i}`));
    net.settle();
    takeSnapshot(net, 'a', 1000);
    let dropped = 0;
    net.filter = (m) => !(m.type === MessageType.Snap && m.snapshot!.offset === 300 && dropped++ < 2);
    net.tickAll(30);
    expect(dropped).toBeGreaterThanOrEqual(2);
    expect(net.get('c').installed).toHaveLength(1);
    expect(net.node('c').status().commit).toBe(net.node('a').status().commit);
  });

  it('a follower that restarts mid-transfer asks for the snapshot from the start', () => {
    const net = new Network(ids, { snapshotChunkBytes: 100, electionTick: 10 });
    net.elect('a');
    net.isolate('c');
    for (let i = 0; i < 5; i++) net.node('a').propose(enc(`m${i}`));
    net.settle();
    takeSnapshot(net, 'a', 1000);
    let restarted = false;
    net.filter = (m) => {
      if (m.type === MessageType.Snap && m.snapshot!.offset === 500 && !restarted) {
        restarted = true;
        net.restart('c');
      }
      return true;
    };
    net.tickAll(30);
    expect(restarted).toBe(true);
    expect(net.sent.some((m) => m.type === MessageType.SnapResp && m.reject === true && m.chunkOffset === 0)).toBe(
      true,
    );
    expect(net.get('c').installed).toHaveLength(1);
    expect(net.node('c').status().commit).toBe(net.node('a').status().commit);
  });

  it('a node added after compaction starts from the snapshot and learns the membership from it', () => {
    const net = new Network(ids);
    net.elect('a');
    for (let i = 0; i < 5; i++) net.node('a').propose(enc(`m${i}`));
    net.settle();
    net.add('d');
    net.node('a').proposeConfChange({ type: ConfChangeType.AddLearner, node: 'd' });
    net.isolate('d');
    net.settle();
    takeSnapshot(net, 'a');
    net.heal();
    net.tickAll(3);
    expect(net.get('d').installed).toHaveLength(1);
    expect(net.node('d').confState()).toEqual({ voters: ids, learners: ['d'], votersOutgoing: [] });
    expect(snapshotValues(net.get('d').installed[0])).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('a snapshot whose last entry the follower already has only moves its commit index', () => {
    const net = new Network(ids, { snapshotChunkBytes: 1 << 20 });
    net.elect('a');
    for (let i = 0; i < 3; i++) net.node('a').propose(enc(`m${i}`));
    net.settle();
    const snap = takeSnapshot(net, 'a');
    const b = net.node('b');
    const before = b.status();
    b.step({
      type: MessageType.Snap,
      group: 'g',
      from: 'a',
      to: 'b',
      term: before.term,
      snapshot: { meta: snap.meta, offset: 0, data: snap.data, done: true },
    });
    net.settle();
    expect(net.get('b').installed).toEqual([]);
    expect(b.status().lastIndex).toBe(before.lastIndex);
  });

  it('restarts from a compacted storage with the snapshot conf and entries after it', () => {
    const net = new Network(ids);
    net.elect('a');
    for (let i = 0; i < 3; i++) net.node('a').propose(enc(`m${i}`));
    net.settle();
    takeSnapshot(net, 'b');
    net.node('a').propose(enc('late'));
    net.settle();
    net.restart('b');
    expect(net.node('b').confState().voters).toEqual(ids);
    expect(net.node('b').status().lastIndex).toBe(net.node('a').status().lastIndex);
    net.node('a').propose(enc('later'));
    net.settle();
    expect(net.data('b').slice(-2)).toEqual(['late', 'later']);
  });
});

describe('snapshot chunk transfer', () => {
  const snap: Snapshot = {
    meta: { index: 9, term: 2, conf: { voters: ['a'], learners: [], votersOutgoing: [] } },
    data: new Uint8Array(250).map((_, i) => i),
  };

  it('the sender keeps a window of chunks ahead of acknowledgements and rewinds on loss', () => {
    const sender = new SnapshotSender(snap, 0);
    expect(sender.nextChunks(100, 200).map((c) => [c.offset, c.data.byteLength, c.done])).toEqual([
      [0, 100, false],
      [100, 100, false],
    ]);
    expect(sender.nextChunks(100, 200)).toEqual([]);
    sender.ack(100, 1);
    expect(sender.nextChunks(100, 200).map((c) => [c.offset, c.data.byteLength, c.done])).toEqual([[200, 50, true]]);
    expect(sender.stalled(5, 10)).toBe(false);
    expect(sender.stalled(11, 10)).toBe(true);
    sender.rewind(11);
    expect(sender.nextChunks(100, 1000).map((c) => c.offset)).toEqual([100, 200]);
  });

  it('the assembler accepts chunks in order, acknowledges duplicates and rejects gaps', () => {
    const asm = new SnapshotAssembler();
    const sender = new SnapshotSender(snap, 0);
    const [c0, c1, c2] = sender.nextChunks(100, 1000);
    expect(asm.offer(c1)).toEqual({ kind: 'reject', offset: 0 });
    expect(asm.offer(c0)).toEqual({ kind: 'ack', offset: 100 });
    expect(asm.offer(c0)).toEqual({ kind: 'ack', offset: 100 });
    expect(asm.offer(c2)).toEqual({ kind: 'reject', offset: 100 });
    expect(asm.offer(c1)).toEqual({ kind: 'ack', offset: 200 });
    const done = asm.offer(c2);
    expect(done.kind).toBe('done');
    expect(done.kind === 'done' && [...done.snapshot.data]).toEqual([...snap.data]);
  });
});
