// The plugin factories: webSocket(init) and webSocketClient(init) take their components
// (identity, logger, metrics), brand the transport, and register metrics where they are told.
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, isTransport, signMessage } from '@converge/core';
import { IdentityRegistry } from '@converge/network';
import { MetricsCollector } from '@converge/observability';
import { webSocket, webSocketClient, type WebSocketConstructor } from '../src/index.js';
import { webSocketClient as browserWebSocketClient } from '../src/client.js';
import { cleanupAfterEach } from '../../../test/support/transport-helpers.js';

const cleanup = cleanupAfterEach();

describe('webSocket(init)(components) and webSocketClient(init)(components)', () => {
  it('build branded transports that authenticate with the component identity and count on the component metrics', async () => {
    const alice = Identity.generate();
    const bob = Identity.generate();
    const registry = new IdentityRegistry();
    registry.register(alice);
    const serverMetrics = new MetricsCollector();
    const server = webSocket({ port: 0, registry })({ identity: bob, metrics: serverMetrics });
    await server.start();
    cleanup.push(() => server.stop());
    const client = webSocketClient({ url: server.listenUrl, WebSocket: WebSocket as unknown as WebSocketConstructor })({ identity: alice });
    await client.start();
    cleanup.push(() => client.stop());
    expect(isTransport(server)).toBe(true);
    expect(isTransport(client)).toBe(true);
    expect(client.agentId).toBe(alice.fingerprint);
    await client.send(signMessage(createMessage({ recipient: bob.fingerprint, payload: 'hi' }), alice));
    expect((await server.receive({ timeoutMs: 10_000 }))?.payload).toBe('hi');
    const text = await serverMetrics.metrics();
    expect(text).toMatch(/converge_transport_bytes_received_total\{transport="websocket"\} [1-9]/);
    expect(text).toContain('converge_ws_auth_total{transport="websocket",outcome="ok"} 1');
  });

  it('the browser entry exports the same client factory', () => {
    expect(browserWebSocketClient).toBe(webSocketClient);
  });
});
