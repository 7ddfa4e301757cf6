/**
 * The fault-injecting proxy between two real broker peer transports (packages/broker), each advertising
 * its proxy port: messages pass through; drop, black hole and delay act on the pair; heal restores it.
 */
import { PeerTransport } from '@myqueue/broker';
import { MessageType, encodeMessage, decodeMessage, silentLogger, type Message } from '@myqueue/raft';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerProxy } from '../src/peer-proxy.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ping = (from: string, to: string, index: number): Message => ({
  type: MessageType.AppResp,
  group: 't/0',
  from,
  to,
  term: 1,
  index,
});

/** Two transports a and b whose peer links go through one proxy. */
async function pair(): Promise<{
  proxy: PeerProxy;
  a: PeerTransport;
  b: PeerTransport;
  got: { a: number[]; b: number[] };
}> {
  const proxy = new PeerProxy();
  open.push(proxy);
  const got = { a: [] as number[], b: [] as number[] };
  const make = async (id: 'a' | 'b'): Promise<PeerTransport> => {
    const advertise = await proxy.listen(id);
    const t = new PeerTransport({
      id,
      port: 0,
      advertise,
      token: 'secret',
      codec: { encode: encodeMessage, decode: decodeMessage },
      logger: silentLogger,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
    });
    t.onMessage((m) => got[id].push(m.index ?? -1));
    const port = await t.start();
    proxy.setTarget(id, `127.0.0.1:${port}`);
    open.push(t);
    return t;
  };
  const a = await make('a');
  const b = await make('b');
  a.setPeer('b', b.address);
  b.setPeer('a', a.address);
  return { proxy, a, b, got };
}

describe('peer proxy', () => {
  it('forwards both ways and knows the pair from the handshake', async () => {
    const { proxy, a, b, got } = await pair();
    a.send([ping('a', 'b', 1)]);
    b.send([ping('b', 'a', 2)]);
    await waitFor(() => got.b.length === 1 && got.a.length === 1);
    expect(got).toEqual({ a: [2], b: [1] });
    // Both ends may dial at once; the transports keep one of the connections.
    expect(proxy.stats().connections).toBeGreaterThanOrEqual(1);
  });

  it('drop cuts the link and refuses reconnects until healed; queued messages then flow', async () => {
    const { proxy, a, b, got } = await pair();
    a.send([ping('a', 'b', 1)]);
    await waitFor(() => got.b.length === 1);
    proxy.setFault('b', 'a', { kind: 'drop' });
    await waitFor(() => !a.isConnected('b') && !b.isConnected('a'));
    a.send([ping('a', 'b', 2)]);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.b).toEqual([1]);
    expect(proxy.stats().refused).toBeGreaterThan(0);
    proxy.heal();
    await waitFor(() => got.b.length === 2);
    expect(got.b).toEqual([1, 2]);
  });

  it('a black hole keeps the connection but holds the bytes until healed', async () => {
    const { proxy, a, got } = await pair();
    a.send([ping('a', 'b', 1)]);
    await waitFor(() => got.b.length === 1);
    proxy.partition(['a'], ['b'], { kind: 'blackhole' });
    a.send([ping('a', 'b', 2)]);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.b).toEqual([1]);
    expect(a.isConnected('b')).toBe(true);
    proxy.heal();
    await waitFor(() => got.b.length === 2);
    expect(got.b).toEqual([1, 2]);
  });

  it('delay slows a link but keeps its order', async () => {
    const { proxy, a, got } = await pair();
    a.send([ping('a', 'b', 0)]);
    await waitFor(() => got.b.length === 1);
    proxy.setFault('a', 'b', { kind: 'delay', ms: 300 });
    const start = Date.now();
    for (let i = 1; i <= 20; i++) a.send([ping('a', 'b', i)]);
    await waitFor(() => got.b.length === 21);
    expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    expect(got.b).toEqual([...Array(21).keys()]);
  });
});
