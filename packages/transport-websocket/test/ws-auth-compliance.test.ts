// WebSocketTransport with client authentication (requireAuth, a registry) still passes the
// shared Transport compliance suite: the authenticated client is routed to as before.
import { transportComplianceTests } from '@converge/compliance/transport';
import { WebSocketTransport } from '../src/index.js';
import { AUTH_CAPABILITIES, AUTH_MAX_MESSAGE_BYTES, authPair } from './auth-pair.js';

transportComplianceTests({
  name: 'WebSocketTransport (requireAuth)',
  capabilities: AUTH_CAPABILITIES,
  createPair: async () => authPair((url, identity) => new WebSocketTransport({ url, identity, maxFrameBytes: AUTH_MAX_MESSAGE_BYTES })),
});
