// C1: socket errors are handled and counted in every state. A raw client that sends one
// malformed WebSocket frame, or announces a message over the limit, before proving its key
// used to crash the whole process (no 'error' listener before authentication). Now that
// connection alone closes, the error is counted, and the server goes on serving.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, signMessage } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import { WebSocketTransport } from '../src/index.js';
import { cleanupAfterEach, rawConnection, until } from '../../../test/support/transport-helpers.js';
import { rawUpgrade, startWs, type WsTestOptions } from './raw-ws.js';

const alice = Identity.generate();
const bob = Identity.generate();
const cleanup = cleanupAfterEach();

function start(options: WsTestOptions): Promise<WebSocketTransport> {
  return startWs(options, (c) => cleanup.push(c));
}

/** The process and the server `s` (requireAuth) are still there: an honest client authenticates and talks. Returns that client. */
async function expectStillServing(s: WebSocketTransport): Promise<WebSocketTransport> {
  const a = await start({ url: s.listenUrl, identity: alice });
  await until(() => s.authStats!.authenticated === 1);
  await a.send(signMessage(createMessage({ payload: 'still up' }), alice));
  expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('still up');
  return a;
}

// A masked client frame with RSV1..3 set and an empty payload: 6 bytes that ws refuses.
const BAD_RSV_FRAME = Buffer.from([0xf2, 0x80, 1, 2, 3, 4]);
// A binary frame header announcing 11 MiB (64-bit length), over the 10 MiB + 4 maxPayload.
const HUGE_HEADER = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x00, 0xb0, 0x00, 0x00, 1, 2, 3, 4]);

describe('WebSocket socket errors before authentication (C1)', () => {
  it('a malformed 6-byte frame or an oversize message before the proof closes that connection only, counted', async () => {
    const metrics = new MetricsCollector();
    const s = await start({ port: 0, identity: bob, requireAuth: true, metrics });
    for (const bytes of [BAD_RSV_FRAME, HUGE_HEADER]) {
      const raw = await rawUpgrade(s.port, alice.fingerprint);
      cleanup.push(async () => raw.socket.destroy());
      raw.socket.write(bytes);
      await raw.closed;
    }
    await until(() => s.stats.socketErrors >= 2);
    expect(s.stats.rejectedOversize).toBe(1);
    expect(await metrics.metrics()).toMatch(/converge_transport_socket_errors_total\{transport="websocket",direction="inbound"\} 2/);
    const a = await expectStillServing(s);
    await s.send(signMessage(createMessage({ recipient: alice.fingerprint, payload: 'back' }), bob));
    expect((await a.receive({ timeoutMs: 10_000 }))?.payload).toBe('back');
  });

  it('a server without auth, and an authenticated connection, survive the same frame', async () => {
    const s = await start({ port: 0 });
    const raw = await rawUpgrade(s.port, 'x');
    cleanup.push(async () => raw.socket.destroy());
    raw.socket.write(BAD_RSV_FRAME);
    await raw.closed;
    await until(() => s.stats.socketErrors === 1);
    const a = await start({ url: s.listenUrl });
    await a.send(signMessage(createMessage({ payload: 'ok' }), alice));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('ok');
  });

  it('a malformed HTTP request before the upgrade (clientError) closes that connection only, counted', async () => {
    const metrics = new MetricsCollector();
    const s = await start({ port: 0, identity: bob, requireAuth: true, metrics });
    const { socket, closed } = await rawConnection(s.port, cleanup);
    socket.resume(); // read whatever comes back, so an answer and its end are seen
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n');
    await closed;
    expect(s.stats.socketErrors).toBe(1);
    expect(await metrics.metrics()).toMatch(/converge_transport_socket_errors_total\{transport="websocket",direction="inbound"\} 1/);
    await expectStillServing(s);
  });

  it('a client whose server sends an invalid frame counts the error and closes that connection', async () => {
    // A fake server: answers the upgrade correctly, then sends a masked frame (servers must not mask).
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (head) => {
        const key = /sec-websocket-key: (.+)\r\n/i.exec(head.toString('latin1'))![1]!.trim();
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        setTimeout(() => socket.write(BAD_RSV_FRAME), 20);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as net.AddressInfo).port;
    const c = await start({ url: `ws://127.0.0.1:${port}` });
    await until(() => c.stats.socketErrors === 1);
    await until(() => c.openConnections === 0);
    expect(c.stats.connectionsClosed).toBe(1);
  });
});

describe('TCP socket errors', () => {
  it('a peer resetting its connection is counted as a socket error; the server goes on', async () => {
    const { TcpTransport } = await import('@converge/transport-tcp');
    const s = new TcpTransport({ port: 0 });
    await s.start();
    cleanup.push(() => s.stop());
    const socket = net.connect({ host: '127.0.0.1', port: s.port });
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write(Buffer.from([0, 0, 0, 9, 1])); // a partial frame, so the server is reading
    await until(() => s.stats.bytesReceived === 5);
    socket.resetAndDestroy();
    await until(() => s.stats.socketErrors === 1);
    await until(() => s.openConnections === 0);
    expect(s.stats.rejectedTruncated).toBe(1);
  });
});
