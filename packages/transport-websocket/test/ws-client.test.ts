// WebSocketClientTransport (the WHATWG-API client the browser uses), run here on `ws`'s
// implementation of that API against a real WebSocketTransport server: the in-band challenge,
// signed messages both ways, refusals, framing limits. test/browser/ runs it in Chromium.
import WebSocket, { WebSocketServer } from 'ws';
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, signMessage, verifyMessage, type WireValue } from '@converge/core';
import { IdentityRegistry } from '@converge/network';
import {
  WS_AUTH_PROTOCOL,
  WS_PLAIN_PROTOCOL,
  WebSocketClientTransport,
  WebSocketTransport,
  encodeChallengeMessage,
  readChallengeMessage,
  type WebSocketClientOptions,
  type WebSocketConstructor,
} from '../src/index.js';
import { cleanupAfterEach, until } from '../../../test/support/transport-helpers.js';

const alice = Identity.generate();
const bob = Identity.generate();
const mallory = Identity.generate();
const cleanup = cleanupAfterEach();

const WS = WebSocket as unknown as WebSocketConstructor;
const quick = { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 };

async function server(options: ConstructorParameters<typeof WebSocketTransport>[0] = {}): Promise<WebSocketTransport> {
  const t = new WebSocketTransport({ port: 0, identity: bob, ...options });
  await t.start();
  cleanup.push(() => t.stop());
  return t;
}

function client(url: string, options: Partial<WebSocketClientOptions> = {}): WebSocketClientTransport {
  const t = new WebSocketClientTransport({ url, WebSocket: WS, reconnect: quick, ...options });
  cleanup.push(() => t.stop());
  return t;
}

const from = (who: Identity, payload: WireValue, recipient: string | null = null) => signMessage(createMessage({ recipient, payload }), who);

describe('WebSocketClientTransport (WHATWG WebSocket API)', () => {
  it('authenticates in-band to a server that requires it; signed messages go both ways and verify', async () => {
    const registry = new IdentityRegistry();
    registry.register(alice);
    const s = await server({ registry });
    const c = client(s.listenUrl, { identity: alice });
    await c.start();
    expect(c.protocol).toBe(WS_AUTH_PROTOCOL);
    await until(() => s.authStats!.authenticated === 1);
    // Routed to under the id it proved.
    await s.send(from(bob, { to: 'alice' }, alice.fingerprint));
    const got = await c.receive({ timeoutMs: 10_000 });
    expect(got?.payload).toEqual({ to: 'alice' });
    expect(verifyMessage(got!, bob.publicKey)).toBe(true);
    await c.send(from(alice, 'from alice'));
    const back = await s.receive({ timeoutMs: 10_000 });
    expect(back?.sender).toBe(alice.fingerprint);
    expect(verifyMessage(back!, alice.publicKey)).toBe(true);
    expect(c.stats.framesSent).toBe(1);
    expect(c.stats.framesReceived).toBe(1);
  });

  it('connects without a proof to a server that does not require one (the plain subprotocol)', async () => {
    const s = await server();
    const c = client(s.listenUrl);
    await c.start();
    expect(c.protocol).toBe(WS_PLAIN_PROTOCOL);
    await c.send(from(alice, 1));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe(1);
    // The server learned the sender on this connection and routes to it.
    await s.send(from(bob, 2, alice.fingerprint));
    expect((await c.receive({ timeoutMs: 10_000 }))?.payload).toBe(2);
    expect(s.authStats).toBeUndefined();
  });

  it('a send made while the server is gone is rejected with ERR_CONNECT when the connect cycle fails, and counted', async () => {
    const s = await server();
    const c = client(s.listenUrl);
    await c.start();
    await until(() => s.openConnections === 1);
    await s.stop();
    await until(() => !c.connected);
    await expect(c.send(from(alice, 'lost'))).rejects.toMatchObject({ code: 'ERR_CONNECT' });
    expect(c.stats.sendErrors).toBe(1);
  });

  it('without a secret key, start() fails with ERR_AUTH against a server requiring a proof', async () => {
    const s = await server({ requireAuth: true });
    const c = client(s.listenUrl, { identity: Identity.fromPublicKey(alice.publicKey) });
    await expect(c.start()).rejects.toMatchObject({ code: 'ERR_AUTH' });
    expect(c.started).toBe(false);
    expect(c.stats.connectFailures).toBe(1); // not redialled
    expect(s.authStats!.authenticated).toBe(0);
  });

  it('a key the registry does not know is refused (1008), counted on both sides; nothing it sends is delivered', async () => {
    const registry = new IdentityRegistry();
    registry.register(alice);
    const s = await server({ registry });
    const c = client(s.listenUrl, { identity: mallory });
    await c.start(); // the proof is sent; the verdict comes as a close
    await until(() => s.authStats!.failedByReason.unregistered === 1);
    await until(() => c.stats.connectFailures === 1); // the 1008 close, counted as a failed connect
    expect(c.connected).toBe(false);
    // The next send redials and proves again (as the Node client does); refused again, its frame is never read.
    await c.send(from(mallory, 'x')).catch(() => undefined);
    await until(() => s.authStats!.failedByReason.unregistered === 2);
    expect(s.stats.framesReceived).toBe(0);
    expect(s.authStats!.authenticated).toBe(0);
  });

  it('a server that selects the subprotocol but sends a frame instead of the challenge is refused by the client', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => WS_AUTH_PROTOCOL });
    await new Promise((r) => wss.once('listening', r));
    cleanup.push(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws) => ws.send(new Uint8Array([0, 0, 0, 1, 0xc0])));
    const port = (wss.address() as { port: number }).port;
    const c = client(`ws://127.0.0.1:${port}`, { identity: alice, reconnect: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 } });
    await expect(c.start()).rejects.toMatchObject({ code: 'ERR_AUTH' });
    expect(c.stats.connectFailures).toBe(1); // ERR_AUTH is not redialled
  });

  it('refuses frames over maxFrameBytes on send (typed, counted) and on receive (counted, closed with 1009)', async () => {
    const s = await server();
    const c = client(s.listenUrl, { maxFrameBytes: 400 });
    await c.start();
    await expect(c.send(from(alice, 'x'.repeat(500)))).rejects.toThrow(/400/);
    expect(c.stats.sendErrors).toBe(1);
    await c.send(from(alice, 'hello'));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('hello');
    await s.send(from(bob, 'y'.repeat(500), alice.fingerprint)); // over the client's limit
    await until(() => c.stats.rejectedOversize === 1);
    await until(() => !c.connected); // closed with 1009, as ws closes on maxPayload
  });

  it('the challenge message is 40 bytes and never reads as a frame the decoder would accept', () => {
    const ch = new Uint8Array(32).fill(9);
    const m = encodeChallengeMessage(ch);
    expect(m.byteLength).toBe(40);
    expect(new DataView(m.buffer, m.byteOffset).getUint32(0)).toBeGreaterThan(1 << 30);
    expect(readChallengeMessage(m)).toEqual(ch);
    expect(readChallengeMessage(m.subarray(0, 39))).toBeUndefined();
    const other = m.slice();
    other[0] = 0;
    expect(readChallengeMessage(other)).toBeUndefined();
  });

  it('validates its options and needs a WebSocket implementation', () => {
    expect(() => new WebSocketClientTransport({ url: 'http://x', WebSocket: WS })).toThrow(/ws:\/\//);
    const g = globalThis as { WebSocket?: unknown };
    const had = Object.getOwnPropertyDescriptor(g, 'WebSocket');
    Object.defineProperty(g, 'WebSocket', { value: undefined, configurable: true, writable: true });
    try {
      expect(() => new WebSocketClientTransport({ url: 'ws://127.0.0.1:1' })).toThrow(/WebSocket implementation/);
    } finally {
      if (had) Object.defineProperty(g, 'WebSocket', had);
      else delete g.WebSocket;
    }
  });
});
