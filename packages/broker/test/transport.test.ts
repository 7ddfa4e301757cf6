import { MessageType, type Message } from '@myqueue/raft';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerTransport, type MessageCodec } from '../src/transport/peer-transport.js';
import { SendQueue } from '../src/transport/send-queue.js';
import { FrameReader, FrameType, encodeFrame } from '../src/transport/frames.js';
import { silentLogger } from '@myqueue/raft';
import { waitFor } from './wait.js';

/** A JSON codec (Uint8Array as base64) so the transport is tested apart from the Raft codec. */
const jsonCodec: MessageCodec = {
  encode: (m) =>
    Buffer.from(
      JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? { u8: Buffer.from(v).toString('base64') } : v)),
    ),
  decode: (b) =>
    JSON.parse(Buffer.from(b).toString('utf8'), (_k, v: unknown) =>
      v && typeof v === 'object' && 'u8' in v ? new Uint8Array(Buffer.from((v as { u8: string }).u8, 'base64')) : v,
    ) as Message,
};

const open: PeerTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function transport(id: string, token = 'secret', port = 0): Promise<{ t: PeerTransport; got: Message[] }> {
  const t = new PeerTransport({
    id,
    port,
    token,
    codec: jsonCodec,
    logger: silentLogger,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
  });
  const got: Message[] = [];
  t.onMessage((m) => got.push(m));
  await t.start();
  open.push(t);
  return { t, got };
}

function app(from: string, to: string, group: string, n: number): Message {
  return {
    type: MessageType.App,
    group,
    from,
    to,
    term: 3,
    index: n,
    logTerm: 2,
    commit: 1,
    entries: [{ index: n + 1, term: 3, type: 0, data: new Uint8Array([n & 255, 7]) }],
  };
}

describe('peer transport', () => {
  it('carries the messages of many groups both ways over one connection, in order', async () => {
    const a = await transport('a');
    const b = await transport('b');
    a.t.setPeer('b', b.t.address);
    b.t.setPeer('a', a.t.address);
    const groups = ['orders/0', 'orders/1', 'logs/7'];
    for (let i = 0; i < 300; i++) a.t.send([app('a', 'b', groups[i % 3], i)]);
    for (let i = 0; i < 50; i++)
      b.t.send([{ type: MessageType.AppResp, group: 'orders/0', from: 'b', to: 'a', term: 3, index: i }]);
    await waitFor(() => b.got.length === 300 && a.got.length === 50);
    expect(b.got.map((m) => m.index)).toEqual([...Array(300).keys()]);
    expect(b.got[5]).toEqual(app('a', 'b', 'logs/7', 5));
    expect(a.got.map((m) => m.index)).toEqual([...Array(50).keys()]);
    expect(a.t.isConnected('b') && b.t.isConnected('a')).toBe(true);
    // settled on a single connection: each side sees exactly one live link and it is the same socket pair
    await waitFor(() => a.t.stats()[0].connected && b.t.stats()[0].connected);
  });

  it('flushNow() writes queued messages within the same turn (a leader sends before its fsync)', async () => {
    const a = await transport('a');
    const b = await transport('b');
    a.t.setPeer('b', b.t.address);
    a.t.send([app('a', 'b', 'g', 0)]);
    await waitFor(() => b.got.length === 1 && a.t.isConnected('b'));
    a.t.send([app('a', 'b', 'g', 1)]);
    expect(a.t.stats()[0].sent).toBe(1); // queued: the regular flush runs at the end of this turn
    a.t.flushNow();
    expect(a.t.stats()[0].sent).toBe(2);
    await waitFor(() => b.got.length === 2);
    expect(b.got.map((m) => m.index)).toEqual([0, 1]);
  });

  it('refuses a peer with the wrong cluster token', async () => {
    const a = await transport('a', 'right');
    const b = await transport('b', 'wrong');
    a.t.setPeer('b', b.t.address);
    a.t.send([app('a', 'b', 'g', 1)]);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.got).toHaveLength(0);
    expect(a.t.isConnected('b')).toBe(false);
  });

  it('drops messages not addressed to it or forged for another sender', async () => {
    const a = await transport('a');
    const b = await transport('b');
    a.t.setPeer('b', b.t.address);
    a.t.send([app('c', 'b', 'g', 1), app('a', 'b', 'g', 2)]);
    await waitFor(() => b.got.length === 1);
    expect(b.got[0].index).toBe(2);
  });

  it('reconnects with backoff after the peer restarts on the same address', async () => {
    const a = await transport('a');
    const b = await transport('b');
    a.t.setPeer('b', b.t.address);
    a.t.send([app('a', 'b', 'g', 1)]);
    await waitFor(() => b.got.length === 1);
    const port = Number(b.t.address.split(':')[1]);
    await b.t.close();
    await waitFor(() => !a.t.isConnected('b'));
    a.t.send([app('a', 'b', 'g', 2)]); // queued while b is down
    await new Promise((r) => setTimeout(r, 150));
    const b2 = await transport('b', 'secret', port);
    a.t.send([app('a', 'b', 'g', 3)]);
    await waitFor(() => b2.got.length === 2);
    expect(b2.got.map((m) => m.index)).toEqual([2, 3]);
  });

  it('learns the dialer address from the handshake so it can answer', async () => {
    const a = await transport('a');
    const b = await transport('b');
    a.t.setPeer('b', b.t.address);
    a.t.send([app('a', 'b', 'g', 1)]);
    await waitFor(() => b.got.length === 1);
    expect(b.t.stats()[0].address).toBe(a.t.address);
    b.t.send([{ type: MessageType.AppResp, group: 'g', from: 'b', to: 'a', term: 3, index: 1 }]);
    await waitFor(() => a.got.length === 1);
  });
});

describe('send queue', () => {
  const hb = (group: string, commit: number): Message => ({
    type: MessageType.Heartbeat,
    group,
    from: 'a',
    to: 'b',
    term: 1,
    commit,
  });

  it('coalesces heartbeats per group and keeps the newest', () => {
    const q = new SendQueue({ maxMessages: 100, maxBytes: 1 << 20 });
    q.push(hb('g1', 1));
    q.push(hb('g2', 1));
    q.push(hb('g1', 2));
    q.push(app('a', 'b', 'g1', 9));
    q.push(hb('g1', 3));
    expect(q.length).toBe(3);
    expect(q.coalesced).toBe(2);
    expect([q.shift()!.commit, q.shift()!.group, q.shift()!.type]).toEqual([3, 'g2', MessageType.App]);
    q.push(hb('g1', 4)); // after the queued one left, a new heartbeat queues again
    expect(q.length).toBe(1);
  });

  it('drops the oldest messages beyond its bounds', () => {
    const q = new SendQueue({ maxMessages: 3, maxBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) q.push(app('a', 'b', 'g', i));
    expect(q.length).toBe(3);
    expect(q.dropped).toBe(7);
    expect(q.shift()!.index).toBe(7);
    const small = new SendQueue({ maxMessages: 100, maxBytes: 500 });
    for (let i = 0; i < 10; i++) small.push(app('a', 'b', 'g', i));
    expect(small.bytes).toBeLessThanOrEqual(500);
    expect(small.length).toBeGreaterThan(0);
  });
});

describe('frames', () => {
  it('reassemble across arbitrary chunk boundaries and refuse oversized frames', () => {
    const bytes = Buffer.concat([
      encodeFrame(FrameType.Raft, Buffer.from('hello')),
      encodeFrame(FrameType.Raft, Buffer.alloc(300, 1)),
    ]);
    const r = new FrameReader(1000);
    const out = [];
    for (let i = 0; i < bytes.length; i += 7) out.push(...r.push(bytes.subarray(i, i + 7)));
    expect(out.map((f) => f.payload.length)).toEqual([5, 300]);
    expect(() => new FrameReader(10).push(encodeFrame(FrameType.Raft, Buffer.alloc(20)))).toThrow(/frame length/);
  });
});
