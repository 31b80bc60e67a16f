// WebSocketClientTransport (the WHATWG-API client, here on `ws`'s implementation of that API)
// against an authenticating WebSocketTransport server passes the shared Transport compliance suite.
import WebSocket from 'ws';
import { transportComplianceTests } from '@converge/compliance/transport';
import { WebSocketClientTransport, type WebSocketConstructor } from '../src/index.js';
import { AUTH_CAPABILITIES, AUTH_MAX_MESSAGE_BYTES, authPair } from './auth-pair.js';

transportComplianceTests({
  name: 'WebSocketClientTransport (WHATWG API, requireAuth)',
  capabilities: { ...AUTH_CAPABILITIES, backpressure: true },
  createPair: async () =>
    authPair(
      (url, identity) =>
        new WebSocketClientTransport({ url, identity, maxFrameBytes: AUTH_MAX_MESSAGE_BYTES, WebSocket: WebSocket as unknown as WebSocketConstructor }),
      { maxReceiveQueue: 1_000 },
    ),
});
