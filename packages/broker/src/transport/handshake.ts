import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The peer-link handshake proves both ends know the cluster token without sending it:
 *   dialer   -> Hello   { v, from, to, nonce, mac: HMAC(token, "hello|from|to|nonce") }
 *   acceptor -> Welcome { v, from, nonce2, mac: HMAC(token, "welcome|from|to|nonce|nonce2") }
 * A wrong token, version or addressee closes the connection.
 */
export const HANDSHAKE_VERSION = 1;

export interface Hello {
  readonly v: number;
  readonly from: string;
  readonly to: string;
  /** The dialer's own peer address, so the acceptor can dial back after a restart. */
  readonly address: string;
  readonly nonce: string;
  readonly mac: string;
}

export interface Welcome {
  readonly v: number;
  readonly from: string;
  readonly nonce: string;
  readonly mac: string;
}

function mac(token: string, parts: readonly string[]): string {
  return createHmac('sha256', token).update(parts.join('|')).digest('base64');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}

export function makeHello(token: string, from: string, to: string, address: string): Hello {
  const nonce = randomBytes(16).toString('base64');
  return { v: HANDSHAKE_VERSION, from, to, address, nonce, mac: mac(token, ['hello', from, to, nonce]) };
}

export function verifyHello(token: string, self: string, h: Partial<Hello>): h is Hello {
  return (
    h.v === HANDSHAKE_VERSION &&
    typeof h.from === 'string' &&
    h.to === self &&
    typeof h.nonce === 'string' &&
    typeof h.address === 'string' &&
    typeof h.mac === 'string' &&
    equal(h.mac, mac(token, ['hello', h.from, h.to, h.nonce]))
  );
}

export function makeWelcome(token: string, hello: Hello): Welcome {
  const nonce = randomBytes(16).toString('base64');
  return {
    v: HANDSHAKE_VERSION,
    from: hello.to,
    nonce,
    mac: mac(token, ['welcome', hello.to, hello.from, hello.nonce, nonce]),
  };
}

export function verifyWelcome(token: string, hello: Hello, w: Partial<Welcome>): w is Welcome {
  return (
    w.v === HANDSHAKE_VERSION &&
    w.from === hello.to &&
    typeof w.nonce === 'string' &&
    typeof w.mac === 'string' &&
    equal(w.mac, mac(token, ['welcome', hello.to, hello.from, hello.nonce, w.nonce]))
  );
}
