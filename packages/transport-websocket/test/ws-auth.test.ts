// WebSocket client authentication (requireAuth): a client claiming another agent's id without
// its key is refused (1008), counted and never routed to; the legitimate client still receives.
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, encodeMessage, signMessage, type WireValue } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import { encodeFrame } from '@converge/network/internal';
import { IdentityRegistry } from '@converge/network';
import { WebSocketTransport, encodeAuthProof, verifyAuthProof, wsAuthSignedBytes } from '../src/index.js';
import { cleanupAfterEach, until } from '../../../test/support/transport-helpers.js';
import { openAuthClient, type AuthClient } from './raw-ws.js';

const alice = Identity.generate();
const bob = Identity.generate();
const mallory = Identity.generate();
const cleanup = cleanupAfterEach();

type Opts = ConstructorParameters<typeof WebSocketTransport>[0];
async function server(options: Opts = {}): Promise<WebSocketTransport> {
  const t = new WebSocketTransport({ port: 0, identity: bob, ...options });
  await t.start();
  cleanup.push(() => t.stop());
  return t;
}
async function client(url: string, options: Opts = {}): Promise<WebSocketTransport> {
  const t = new WebSocketTransport({ url, reconnect: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 }, ...options });
  await t.start();
  cleanup.push(() => t.stop());
  return t;
}

/** A raw client announcing `claim`; resolves with the socket and the challenge it was sent. */
function rawClient(url: string, claim: string): Promise<AuthClient> {
  return openAuthClient(url, claim, (c) => cleanup.push(c));
}

const toAlice = (payload: WireValue) => signMessage(createMessage({ recipient: alice.fingerprint, payload }), bob);

describe('WebSocket client authentication', () => {
  it('is off by default (reference-compatible) and on by default with a registry', () => {
    expect(new WebSocketTransport({ port: 0 }).requireAuth).toBe(false);
    expect(new WebSocketTransport({ port: 0, identity: bob }).requireAuth).toBe(false);
    expect(new WebSocketTransport({ port: 0, registry: new IdentityRegistry() }).requireAuth).toBe(true);
    expect(new WebSocketTransport({ port: 0, registry: new IdentityRegistry(), requireAuth: false }).requireAuth).toBe(false);
    expect(new WebSocketTransport({ port: 0, requireAuth: true }).authStats?.authenticated).toBe(0);
  });

  it('proofs: bound to the challenge, the URL and the key; the id is the key fingerprint', () => {
    const ch = Buffer.alloc(32, 7);
    const url = 'ws://127.0.0.1:9000';
    const p = encodeAuthProof(alice, ch, url);
    expect(verifyAuthProof(p, ch, 'ws://127.0.0.1:9000/', alice.fingerprint)).toEqual({ ok: true, agentId: alice.fingerprint });
    expect(verifyAuthProof(p, ch, url, undefined)).toEqual({ ok: true, agentId: alice.fingerprint });
    expect(verifyAuthProof(p, Buffer.alloc(32, 8), url, alice.fingerprint)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAuthProof(p, ch, 'ws://127.0.0.1:9001', alice.fingerprint)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAuthProof(p, ch, url, bob.fingerprint)).toEqual({ ok: false, reason: 'wrong_id' });
    expect(verifyAuthProof(p.subarray(0, 50), ch, url, undefined)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyAuthProof(Buffer.from([0, 0, 0, 1, 0]), ch, url, undefined)).toEqual({ ok: false, reason: 'missing' });
    const registry = new IdentityRegistry();
    expect(verifyAuthProof(p, ch, url, alice.fingerprint, registry)).toEqual({ ok: false, reason: 'unregistered' });
    registry.register(alice);
    expect(verifyAuthProof(p, ch, url, alice.fingerprint, registry).ok).toBe(true);
    // The signed bytes start with the context string.
    expect(wsAuthSignedBytes(ch, url).subarray(0, 19).toString()).toBe('converge-ws-auth-v1');
  });

  it('an impersonating client gets nothing and is counted; the legitimate client still receives', async () => {
    const metrics = new MetricsCollector();
    const s = await server({ requireAuth: true, metrics });
    // 1. Claims alice's id and sends a frame instead of a proof.
    const m1 = await rawClient(s.listenUrl, alice.fingerprint);
    expect(m1.challenge.byteLength).toBe(32);
    m1.ws.send(encodeFrame(encodeMessage(signMessage(createMessage({ payload: 'hi' }), alice))));
    // 2. Claims alice's id and proves mallory's key.
    const m2 = await rawClient(s.listenUrl, alice.fingerprint);
    m2.ws.send(encodeAuthProof(mallory, m2.challenge, s.listenUrl));
    // 3. Claims alice's id with alice's public key and a forged signature.
    const m3 = await rawClient(s.listenUrl, alice.fingerprint);
    const forged = encodeAuthProof(mallory, m3.challenge, s.listenUrl);
    Buffer.from(alice.publicKey).copy(forged, 8);
    m3.ws.send(forged);
    // 4. Replays a proof of alice made for another challenge.
    const m4 = await rawClient(s.listenUrl, alice.fingerprint);
    m4.ws.send(encodeAuthProof(alice, Buffer.alloc(32, 1), s.listenUrl));
    expect(await Promise.all([m1.closed, m2.closed, m3.closed, m4.closed])).toEqual([1008, 1008, 1008, 1008]);
    expect(s.authStats).toMatchObject({ authenticated: 0, failed: 4, failedByReason: { missing: 1, wrong_id: 1, bad_signature: 2 } });
    expect(await metrics.metrics()).toMatch(/converge_ws_auth_total\{transport="websocket",outcome="bad_signature"\} 2/);
    expect(s.stats.framesReceived).toBe(0); // nothing sent before the proof is delivered
    // Nothing is routed to them, not even broadcasts.
    await expect(s.send(toAlice('secret'))).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });
    await expect(s.send(signMessage(createMessage({ payload: 'all' }), bob))).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });

    // The legitimate client (it answers the challenge automatically) receives its messages.
    const a = await client(s.listenUrl, { identity: alice });
    await until(() => s.authStats!.authenticated === 1);
    // An impersonator connecting afterwards cannot take the route over.
    const m5 = await rawClient(s.listenUrl, alice.fingerprint);
    m5.ws.send(encodeAuthProof(mallory, m5.challenge, s.listenUrl));
    expect(await m5.closed).toBe(1008);
    await s.send(toAlice('for alice'));
    expect((await a.receive({ timeoutMs: 10_000 }))?.payload).toBe('for alice');
    for (const m of [m1, m2, m3, m4, m5]) expect(m.got).toEqual([]);
    expect(s.authStats!.failed).toBe(5);
    // Messages from the authenticated client are delivered.
    await a.send(signMessage(createMessage({ payload: 'from alice' }), alice));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('from alice');
  });

  it('a sender id in messages does not create a route under requireAuth', async () => {
    const s = await server({ requireAuth: true });
    const m = await client(s.listenUrl, { identity: mallory });
    await m.send(signMessage(createMessage({ payload: 'as alice' }), alice)); // sender = alice
    expect((await s.receive({ timeoutMs: 10_000 }))?.sender).toBe(alice.fingerprint);
    await expect(s.send(toAlice('x'))).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });
  });

  it('with a registry, only registered keys are accepted', async () => {
    const registry = new IdentityRegistry();
    registry.register(alice);
    const s = await server({ registry });
    const a = await client(s.listenUrl, { identity: alice });
    const stranger = Identity.generate();
    const x = new WebSocketTransport({ url: s.listenUrl, identity: stranger, reconnect: { maxAttempts: 1 } });
    await x.start();
    cleanup.push(() => x.stop());
    await until(() => s.authStats!.failedByReason.unregistered === 1);
    await until(() => s.authStats!.authenticated === 1);
    await s.send(toAlice('ok'));
    expect((await a.receive({ timeoutMs: 10_000 }))?.payload).toBe('ok');
    await expect(s.send(signMessage(createMessage({ recipient: stranger.fingerprint }), bob))).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });
    // The refused client is closed and does not redial by itself.
    await until(() => x.openConnections === 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.authStats!.failed).toBe(1);
  });

  it('a client without a key cannot connect to a server that requires auth; silent clients time out', async () => {
    const s = await server({ requireAuth: true, authTimeoutMs: 50 });
    const noKey = new WebSocketTransport({ url: s.listenUrl, agentId: alice.fingerprint, reconnect: { maxAttempts: 1 } });
    const err = await noKey.start().catch((e) => e);
    expect(err.code).toBe('ERR_CONNECT');
    expect(err.cause.code).toBe('ERR_AUTH');
    const silent = await rawClient(s.listenUrl, alice.fingerprint);
    expect(await silent.closed).toBe(1008);
    expect(s.authStats!.failedByReason.timeout).toBeGreaterThanOrEqual(1);
  });

  it('without requireAuth, a client with an identity talks to the server unchanged (no challenge)', async () => {
    const s = await server();
    const raw = await rawClient(s.listenUrl, 'someone');
    expect(raw.challenge.byteLength).toBe(0);
    const a = await client(s.listenUrl, { identity: alice });
    await until(() => s.openConnections === 2);
    await s.send(toAlice('plain'));
    expect((await a.receive({ timeoutMs: 10_000 }))?.payload).toBe('plain');
  });
});
