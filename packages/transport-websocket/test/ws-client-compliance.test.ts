// WebSocketClientTransport (the WHATWG-API client, here on `ws`'s implementation of that API)
// against an authenticating WebSocketTransport server passes the shared Transport compliance suite.
import WebSocket from 'ws';
import { transportComplianceTests } from '@converge/compliance/transport';
import { Identity } from '@converge/core';
import { IdentityRegistry } from '@converge/network';
import { WebSocketClientTransport, WebSocketTransport, type WebSocketConstructor } from '../src/index.js';

const alice = Identity.generate();
const bob = Identity.generate();
const registry = new IdentityRegistry();
registry.register(alice);

transportComplianceTests({
  name: 'WebSocketClientTransport (WHATWG API, requireAuth)',
  // The server (b) knows its authenticated clients and refuses other recipients (ERR_NO_ROUTE).
  capabilities: { broadcast: true, topics: false, refusesUnknownRecipient: 'b', backpressure: true },
  createPair: async () => {
    const b = new WebSocketTransport({ port: 0, identity: bob, registry, maxFrameBytes: 65_536, maxReceiveQueue: 1_000 });
    const a = new WebSocketClientTransport({
      url: () => b.listenUrl,
      identity: alice,
      maxFrameBytes: 65_536,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    return { a, b, aId: alice.fingerprint, bId: bob.fingerprint, maxMessageBytes: 65_536 };
  },
});
