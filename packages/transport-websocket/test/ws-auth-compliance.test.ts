// WebSocketTransport with client authentication (requireAuth, a registry) still passes the
// shared Transport compliance suite: the authenticated client is routed to as before.
import { transportComplianceTests } from '@converge/compliance/transport';
import { Identity } from '@converge/core';
import { IdentityRegistry } from '@converge/network';
import { WebSocketTransport } from '../src/index.js';

const alice = Identity.generate();
const bob = Identity.generate();
const registry = new IdentityRegistry();
registry.register(alice);

transportComplianceTests({
  name: 'WebSocketTransport (requireAuth)',
  // The server (b) knows its authenticated clients and refuses other recipients (ERR_NO_ROUTE).
  capabilities: { broadcast: true, topics: false, refusesUnknownRecipient: 'b' },
  createPair: async () => {
    const b = new WebSocketTransport({ port: 0, identity: bob, registry, maxFrameBytes: 65_536 });
    const a = new WebSocketTransport({ url: () => b.listenUrl, identity: alice, maxFrameBytes: 65_536 });
    return { a, b, aId: alice.fingerprint, bId: bob.fingerprint, maxMessageBytes: 65_536 };
  },
});
