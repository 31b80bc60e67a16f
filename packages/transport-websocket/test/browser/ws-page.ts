// The page side of ws-browser.test.ts, bundled with the `browser` condition and run in
// Chromium: a WebSocketClientTransport on the browser's native WebSocket (no `ws`), with an
// identity made from WebCrypto randomness, talking to a Node WebSocketTransport server.
import { Identity, bytesToHex, createMessage, encodeMessage, hexToBytes, signMessage, verifyMessage, type WireValue } from '@converge/core';
import { WebSocketClientTransport } from '../../src/client.js';

let identity: Identity | undefined;
let client: WebSocketClientTransport | undefined;

const page = {
  /** A fresh identity (WebCrypto randomness, noble Ed25519); returns its public key. */
  newIdentity() {
    identity = Identity.generate();
    return { publicKey: bytesToHex(identity.publicKey), fingerprint: identity.fingerprint, backend: identity.backend };
  },

  /** Connects to `url` with the page identity (or none); resolves with what the connection negotiated, or the error. */
  async connect(url: string, withIdentity: boolean) {
    client = new WebSocketClientTransport({ url, identity: withIdentity ? identity : undefined, reconnect: { maxAttempts: 1 } });
    try {
      await client.start();
      return { ok: true, protocol: client.protocol, nativeWebSocket: typeof WebSocket === 'function' };
    } catch (err) {
      return { ok: false, name: (err as Error).name, code: (err as { code?: string }).code, message: (err as Error).message };
    }
  },

  /** Signs a message with the page identity and sends it. */
  async send(payload: unknown, recipient: string | null) {
    const m = signMessage(createMessage({ payload: payload as WireValue, recipient }), identity!);
    await client!.send(m);
    return { id: m.id, encoded: bytesToHex(encodeMessage(m)) };
  },

  /** The next message, verified in the page against `senderKeyHex`. */
  async receive(senderKeyHex: string, timeoutMs: number) {
    const m = await client!.receive({ timeoutMs });
    if (!m) return null;
    return {
      id: m.id,
      sender: m.sender,
      recipient: m.recipient,
      payload: m.payload as unknown,
      verified: verifyMessage(m, hexToBytes(senderKeyHex)),
      encoded: bytesToHex(encodeMessage(m)),
    };
  },

  /** Stats of the client. */
  stats() {
    return { ...client!.stats, connected: client!.connected };
  },

  async stop() {
    await client?.stop();
    return client?.started ?? false;
  },
};

/** What the page exposes to the test. */
export type WsPage = typeof page;

(globalThis as unknown as { wsPage: WsPage }).wsPage = page;
(globalThis as unknown as { __pageReady: boolean }).__pageReady = true;
