import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { abortOnClose } from '../src/http/abort-on-close.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** A server whose handler gives each response, with its abortOnClose signal, to `onRequest`. */
async function serve(onRequest: (res: ServerResponse, signal: AbortSignal) => void): Promise<string> {
  server = createServer((_req, res) => onRequest(res, abortOnClose(res)));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

it('does not abort when the answer was sent', async () => {
  let seen: { res: ServerResponse; signal: AbortSignal } | undefined;
  const url = await serve((res, signal) => {
    seen = { res, signal };
    res.end('ok');
  });
  expect(await (await fetch(url)).text()).toBe('ok');
  const { res, signal } = seen!;
  if (!res.closed) await new Promise((resolve) => res.once('close', resolve));
  expect(signal.aborted).toBe(false);
});

it('aborts when the client goes away before the answer', async () => {
  let signal: AbortSignal | undefined;
  let arrived!: () => void;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  // Never answered: a long poll still waiting.
  const url = await serve((_res, s) => {
    signal = s;
    arrived();
  });
  const client = new AbortController();
  const request = fetch(url, { signal: client.signal }).catch(() => undefined);
  await arrival;
  client.abort();
  await request;
  if (!signal!.aborted) await new Promise((resolve) => signal!.addEventListener('abort', resolve, { once: true }));
  expect(signal!.aborted).toBe(true);
});
