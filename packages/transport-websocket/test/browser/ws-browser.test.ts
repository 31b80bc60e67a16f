// The WebSocket client in real headless Chromium (native WebSocket, core's browser build)
// talking to a Node WebSocketTransport server that requires authentication: the page proves
// a key it generated, signed messages go both ways and verify on both sides.
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { Identity, createMessage, decodeMessage, encodeMessage, hexToBytes, signMessage, bytesToHex, verifyMessage } from '@converge/core';
import { browserBundleSize, describeInChromium, pageInChromium } from '../../../../test/support/chromium.js';
import { IdentityRegistry } from '@converge/network';
import { receiveVerified } from '@converge/network';
import { WS_AUTH_PROTOCOL, WS_PLAIN_PROTOCOL, WebSocketTransport } from '../../src/index.js';
import { until } from '../../../../test/support/transport-helpers.js';
import type { WsPage } from './ws-page.js';

const PAGE = fileURLToPath(new URL('./ws-page.ts', import.meta.url));
const CLIENT_ENTRY = fileURLToPath(new URL('../../src/client.ts', import.meta.url));

const servers: WebSocketTransport[] = [];
const bob = Identity.generate();

async function wsServer(options: ConstructorParameters<typeof WebSocketTransport>[0]): Promise<WebSocketTransport> {
  const s = new WebSocketTransport({ port: 0, identity: bob, ...options });
  await s.start();
  servers.push(s);
  return s;
}

describeInChromium('WebSocket client in headless Chromium, Node server', () => {
  const page = pageInChromium<WsPage>(PAGE, 'wsPage');
  const inPage = page.call;
  afterEach(async () => {
    await inPage('stop');
    for (const s of servers.splice(0)) await s.stop();
  });

  it('authenticates with a key made in the page; signed messages both ways, verified on both sides', async () => {
    const me = await inPage('newIdentity');
    expect(me.backend).toBe('noble');
    const registry = new IdentityRegistry();
    registry.register(Identity.fromPublicKey(hexToBytes(me.publicKey)));
    registry.register(bob);
    const s = await wsServer({ registry });
    const c = await inPage('connect', s.listenUrl, true);
    expect(c).toEqual({ ok: true, protocol: WS_AUTH_PROTOCOL, nativeWebSocket: true });
    await until(() => s.authStats!.authenticated === 1);

    // Node -> page: routed under the id the page proved, verified in the page.
    const toPage = signMessage(createMessage({ recipient: me.fingerprint, payload: { hello: 'browser', n: 42 } }), bob);
    await s.send(toPage);
    const got = await inPage('receive', bytesToHex(bob.publicKey), 10_000);
    expect(got).toMatchObject({ id: toPage.id, sender: bob.fingerprint, recipient: me.fingerprint, payload: { hello: 'browser', n: 42 }, verified: true });
    expect(got!.encoded).toBe(bytesToHex(encodeMessage(toPage))); // the same wire bytes
    // ...and a message signed by someone else under bob's name does not verify there.
    const mallory = Identity.generate();
    const forged = encodeMessage(
      createMessage({ ...signMessage(createMessage({ recipient: me.fingerprint, payload: 'forged' }), mallory), sender: bob.fingerprint }),
    );
    await s.send(decodeMessage(forged));
    expect((await inPage('receive', bytesToHex(bob.publicKey), 10_000))?.verified).toBe(false);

    // page -> Node: receiveVerified checks the signature against the registered key.
    const sent = await inPage('send', { from: 'the page' }, bob.fingerprint);
    const back = await receiveVerified(s, registry, { timeoutMs: 10_000 });
    expect(back?.id).toBe(sent.id);
    expect(back?.sender).toBe(me.fingerprint);
    expect(back?.payload).toEqual({ from: 'the page' });
    expect(verifyMessage(back!, hexToBytes(me.publicKey))).toBe(true);
    expect(bytesToHex(encodeMessage(back!))).toBe(sent.encoded);
    const stats = await inPage('stats');
    expect(stats).toMatchObject({ framesSent: 1, framesReceived: 2, connected: true });
    expect(page.session.errors).toEqual([]);
  });

  it('a page whose key is not registered is refused (1008) and gets nothing; without a key it cannot connect', async () => {
    await inPage('newIdentity');
    const registry = new IdentityRegistry();
    registry.register(bob);
    const s = await wsServer({ registry });
    expect((await inPage('connect', s.listenUrl, true)).ok).toBe(true); // the proof goes out; the verdict is a close
    await until(() => s.authStats!.failedByReason.unregistered === 1);
    await expect.poll(async () => (await inPage('stats')).connected, { timeout: 10_000 }).toBe(false);
    expect((await inPage('stats')).connectFailures).toBe(1);
    await expect(s.send(signMessage(createMessage({ payload: 'all' }), bob))).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });
    await inPage('stop');

    const noKey = await inPage('connect', s.listenUrl, false);
    expect(noKey).toMatchObject({ ok: false, name: 'TransportError', code: 'ERR_AUTH' });
    expect(s.authStats!.authenticated).toBe(0);
  });

  it('connects without a proof to a server that does not require one', async () => {
    const me = await inPage('newIdentity');
    const s = await wsServer({});
    expect(await inPage('connect', s.listenUrl, true)).toMatchObject({ ok: true, protocol: WS_PLAIN_PROTOCOL });
    await inPage('send', 'hi', null);
    const m = await s.receive({ timeoutMs: 10_000 });
    expect(m?.sender).toBe(me.fingerprint);
    expect(verifyMessage(m!, hexToBytes(me.publicKey))).toBe(true);
  });

  it('the client entry bundles for the browser without ws, node:* or Buffer (min+gzip size logged)', async () => {
    const size = await browserBundleSize(CLIENT_ENTRY);
    expect(size.inputs.some((f) => f.includes('/ws/') || f.includes('node_modules/ws'))).toBe(false);
    expect(size.inputs).toContain('packages/core/src/platform.browser.ts');
    expect(/\bnode:/.test(size.text), 'a node: specifier in the bundle').toBe(false);
    expect(/\bBuffer\b/.test(size.text), 'a Buffer reference in the bundle').toBe(false);
    console.log(`websocket client browser bundle (with the core it uses): ${size.minified} bytes minified, ${size.gzip} bytes min+gzip`);
  });
});
