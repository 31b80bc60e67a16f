// WebSocket client authentication over TLS (wss://) with a throwaway CA made by the openssl
// CLI at test time: the proof binds the wss URL; an honest client authenticates and talks both
// ways; an unregistered key, a claimed id that is not the key's, a missing proof and a proof
// for the plain ws:// URL are all still refused (1008) and counted over TLS.
import { beforeAll, describe, expect, it } from 'vitest';
import { Identity, TransportError, createMessage, encodeMessage, signMessage } from '@converge/core';
import { encodeFrame } from '@converge/network/internal';
import { IdentityRegistry } from '@converge/network';
import { WS_AUTH_CLOSE_CODE, WebSocketTransport, encodeAuthProof } from '../src/index.js';
import { cleanupAfterEach, hasOpenssl, makePki, until, type TestPki } from '../../../test/support/transport-helpers.js';
import { openAuthClient, startWs, type WsTestOptions } from './raw-ws.js';

const alice = Identity.generate();
const bob = Identity.generate();
const mallory = Identity.generate();
let pki: TestPki;
const cleanup = cleanupAfterEach();

function start(options: WsTestOptions): Promise<WebSocketTransport> {
  return startWs(options, (c) => cleanup.push(c));
}
async function wssServer(): Promise<WebSocketTransport> {
  const registry = new IdentityRegistry();
  registry.register(alice);
  registry.register(bob);
  return start({ port: 0, identity: bob, registry, tls: { key: pki.serverKey, cert: pki.serverCert } });
}

/** A raw `ws` client over TLS that answers the challenge with `proof(challenge)` (or nothing). */
async function rawTls(url: string, claim: string, proof?: (challenge: Buffer) => Buffer): Promise<{ code: Promise<number>; got: Buffer[] }> {
  const { ws, challenge, got, closed: code } = await openAuthClient(url, claim, (c) => cleanup.push(c), { ca: pki.ca });
  expect(challenge.byteLength).toBe(32);
  if (proof) ws.send(proof(challenge));
  else ws.send(encodeFrame(encodeMessage(signMessage(createMessage({ payload: 'no proof' }), alice))));
  return { code, got };
}

describe.runIf(hasOpenssl())('WebSocket authentication over TLS (wss)', () => {
  beforeAll(() => {
    pki = makePki();
  });

  it('an honest client with the CA authenticates over wss:// and talks both ways', async () => {
    const s = await wssServer();
    expect(s.listenUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const a = await start({ url: s.listenUrl, identity: alice, tls: { ca: pki.ca } });
    await until(() => s.authStats!.authenticated === 1);
    await a.send(signMessage(createMessage({ recipient: bob.fingerprint, payload: 'over tls' }), alice));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('over tls');
    await s.send(signMessage(createMessage({ recipient: alice.fingerprint, payload: 'back over tls' }), bob));
    expect((await a.receive({ timeoutMs: 10_000 }))?.payload).toBe('back over tls');
    expect(s.authStats!.failed).toBe(0);
  });

  it('refusals still refuse over wss: unregistered key, wrong id, no proof, proof for ws://', async () => {
    const s = await wssServer();
    const url = s.listenUrl;
    // An unregistered key through the real client: the server closes with 1008 and never routes to it.
    await start({ url, identity: mallory, tls: { ca: pki.ca } });
    await until(() => s.authStats!.failedByReason.unregistered === 1);
    await expect(s.send(signMessage(createMessage({ recipient: mallory.fingerprint, payload: 'x' }), bob))).rejects.toThrow(TransportError);

    // Claiming alice's id with mallory's (valid) proof.
    const wrong = await rawTls(url, alice.fingerprint, (ch) => encodeAuthProof(mallory, ch, url));
    expect(await wrong.code).toBe(WS_AUTH_CLOSE_CODE);
    // A frame instead of a proof.
    const none = await rawTls(url, alice.fingerprint);
    expect(await none.code).toBe(WS_AUTH_CLOSE_CODE);
    // Alice's real key, but signed for the plain ws:// URL: the scheme is bound into the proof.
    const plain = await rawTls(url, alice.fingerprint, (ch) => encodeAuthProof(alice, ch, url.replace(/^wss:/, 'ws:')));
    expect(await plain.code).toBe(WS_AUTH_CLOSE_CODE);

    expect(s.authStats!.failedByReason).toMatchObject({ unregistered: 1, wrong_id: 1, missing: 1, bad_signature: 1 });
    expect(s.authStats!.authenticated).toBe(0);
    // Nothing from a refused client was delivered, and nothing was routed to one.
    expect(s.tryReceive()).toBeNull();
    expect(wrong.got).toEqual([]);
    await expect(s.send(signMessage(createMessage({ recipient: alice.fingerprint, payload: 'x' }), bob))).rejects.toThrow(TransportError);
  });
});
