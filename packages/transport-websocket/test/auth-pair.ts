// The pair of the requireAuth compliance runs (ws-auth-compliance.test.ts, ws-client-compliance.test.ts):
// an authenticating WebSocketTransport server (b, bob) whose registry knows alice, and a client
// (a, alice) of either kind.
import type { TransportCapabilities, TransportPair, TransportUnderTest } from '@converge/compliance/transport';
import { Identity } from '@converge/core';
import { IdentityRegistry } from '@converge/network';
import { WebSocketTransport } from '../src/index.js';
import type { WsTestOptions } from './raw-ws.js';

const alice = Identity.generate();
const bob = Identity.generate();
const registry = new IdentityRegistry();
registry.register(alice);

/** The largest message either side of the pair accepts. */
export const AUTH_MAX_MESSAGE_BYTES = 65_536;

/** The server (b) knows its authenticated clients and refuses other recipients (ERR_NO_ROUTE). */
export const AUTH_CAPABILITIES: TransportCapabilities = { broadcast: true, topics: false, refusesUnknownRecipient: 'b' };

/**
 * A fresh, unstarted pair: the server `b` (with `serverOptions` on top of bob's identity and the
 * registry) and the client `a` that `client` makes for alice and the server's URL.
 */
export function authPair(client: (url: () => string, identity: Identity) => TransportUnderTest, serverOptions: WsTestOptions = {}): TransportPair {
  const b = new WebSocketTransport({ port: 0, identity: bob, registry, maxFrameBytes: AUTH_MAX_MESSAGE_BYTES, ...serverOptions });
  return { a: client(() => b.listenUrl, alice), b, aId: alice.fingerprint, bId: bob.fingerprint, maxMessageBytes: AUTH_MAX_MESSAGE_BYTES };
}
