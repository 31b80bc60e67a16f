// H3: memory per unauthenticated connection. A peer announcing a large frame and sending part
// of it used to make the server hold up to 10 MiB per connection (1,024 connections: ~10 GiB),
// and the receive queue was bounded by count only (10,000 x 10 MiB). Now: one inbound byte
// budget shared by all connections of a transport, a per-connection budget, a small pre-auth
// limit on WebSocket, and a byte bound on the receive queue. Real sockets on 127.0.0.1.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Identity, ValidationError, createMessage, encodeMessage, signMessage, type WireValue } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import { encodeFrame } from '@converge/network/internal';
import { InboundBudget } from '@converge/network/internal';
import { NetInstruments } from '@converge/network/internal';
import { FrameReceiver } from '@converge/network/internal';
import { TcpTransport } from '@converge/transport-tcp';
import { WebSocketTransport } from '../../src/index.js';
import { cleanupAfterEach, rawConnection, started, until } from '../../../../test/support/transport-helpers.js';
import { rawUpgrade, wsFrame, wsFrameHeader } from '../raw-ws.js';

const alice = Identity.generate();
const bob = Identity.generate();
const KiB = 1024;
const cleanup = cleanupAfterEach();

const tcpServer = (options: ConstructorParameters<typeof TcpTransport>[0]) => started(new TcpTransport({ port: 0, ...options }), cleanup);
const wsServer = (options: ConstructorParameters<typeof WebSocketTransport>[0]) =>
  started(new WebSocketTransport({ port: 0, identity: bob, ...options }), cleanup);
const wsClient = (url: string, identity?: Identity) =>
  started(new WebSocketTransport({ url, identity, reconnect: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 } }), cleanup);
const raw = (port: number) => rawConnection(port, cleanup);
const write = (s: net.Socket, b: Uint8Array): Promise<void> => new Promise((r, j) => s.write(b, (e) => (e ? j(e) : r())));
const msg = (payload: WireValue) => signMessage(createMessage({ payload }), alice);
const frame = (payload: WireValue) => encodeFrame(encodeMessage(msg(payload)));
/** A TCP frame prefix announcing `size` bytes, followed by `sent` of them. */
function partialTcpFrame(size: number, sent: number): Buffer {
  const b = Buffer.alloc(4 + sent, 0x61);
  b.writeUInt32BE(size, 0);
  return b;
}

describe('inbound byte budget (H3)', () => {
  it('validates its options; defaults 64 MiB for all connections, one frame per connection', () => {
    const b = new InboundBudget({}, 10 * 1024 * KiB);
    expect(b.maxBytes).toBe(64 * 1024 * KiB);
    expect(b.maxConnectionBytes).toBe(10 * 1024 * KiB + 4 + 64 * KiB);
    expect(() => new TcpTransport({ maxInboundBytes: 0 })).toThrow(ValidationError);
    expect(() => new TcpTransport({ maxConnectionBytes: 1.5 })).toThrow(ValidationError);
    expect(() => new WebSocketTransport({ port: 0, frameProgressTimeoutMs: -1 })).toThrow(ValidationError);
    expect(() => new WebSocketTransport({ port: 0, preAuthMaxBytes: 10 })).toThrow(ValidationError);
  });

  it('TCP: connections holding partial frames share one budget; the one going over is closed and counted, others and new clients go on', async () => {
    const metrics = new MetricsCollector();
    const s = await tcpServer({ maxInboundBytes: 1024 * KiB, metrics });
    // Three connections each hold 300 KiB of an announced 5 MiB frame: 900 KiB, within the budget.
    const holders = [await raw(s.port), await raw(s.port), await raw(s.port)];
    for (const h of holders) await write(h.socket, partialTcpFrame(5 * 1024 * KiB, 300 * KiB));
    await until(() => s.inboundBytes >= 900 * KiB);
    // A fourth would take the transport over 1 MiB: refused at once, not when its frame ends.
    const over = await raw(s.port);
    await write(over.socket, partialTcpFrame(5 * 1024 * KiB, 300 * KiB));
    await over.closed;
    expect(s.stats.rejectedOverBudget).toBe(1);
    expect(s.stats.rejectedTruncated).toBe(0); // refused, not counted twice
    expect(s.inboundBytes).toBeLessThanOrEqual(1024 * KiB);
    expect(holders.every((h) => !h.isClosed())).toBe(true);
    expect(await metrics.metrics()).toMatch(/converge_frames_rejected_total\{transport="tcp",reason="over_budget"\} 1/);
    // A client sending whole frames needs no budget between frames: it still gets through.
    const c = await raw(s.port);
    await write(c.socket, frame('small and whole'));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('small and whole');
    // Closing the holders gives their bytes back.
    for (const h of holders) h.socket.destroy();
    await until(() => s.inboundBytes === 0);
  });

  it('TCP: one connection over maxConnectionBytes is closed and counted', async () => {
    const s = await tcpServer({ maxConnectionBytes: 64 * KiB });
    const c = await raw(s.port);
    await write(c.socket, partialTcpFrame(1024 * KiB, 32 * KiB));
    await until(() => s.inboundBytes >= 32 * KiB);
    expect(c.isClosed()).toBe(false);
    await write(c.socket, Buffer.alloc(40 * KiB, 0x61)).catch(() => undefined);
    await c.closed;
    expect(s.stats.rejectedOverBudget).toBe(1);
    expect(s.inboundBytes).toBe(0);
  });

  it('WebSocket: partial messages share the same kind of budget; the one going over is closed and counted', async () => {
    const s = await wsServer({ maxInboundBytes: 1024 * KiB });
    const holders = [await rawUpgrade(s.port, 'h1'), await rawUpgrade(s.port, 'h2'), await rawUpgrade(s.port, 'h3')];
    for (const h of holders) {
      cleanup.push(async () => h.socket.destroy());
      h.socket.write(Buffer.concat([wsFrameHeader(5 * 1024 * KiB), Buffer.alloc(300 * KiB, 0x61)]));
    }
    await until(() => s.inboundBytes >= 900 * KiB);
    const over = await rawUpgrade(s.port, 'h4');
    cleanup.push(async () => over.socket.destroy());
    over.socket.write(Buffer.concat([wsFrameHeader(5 * 1024 * KiB), Buffer.alloc(300 * KiB, 0x61)]));
    await over.closed;
    expect(s.stats.rejectedOverBudget).toBe(1);
    expect(s.inboundBytes).toBeLessThanOrEqual(1024 * KiB);
    // A client sending whole messages still gets through.
    const c = await wsClient(s.listenUrl, alice);
    await c.send(msg('ws whole'));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('ws whole');
    for (const h of holders) h.socket.destroy();
    await until(() => s.inboundBytes === 0);
  });

  it('WebSocket with requireAuth: nothing bigger than the proof is buffered before the proof; after it, large messages pass', async () => {
    // authTimeoutMs far beyond the test timeout: only the pre-auth limit can close this connection.
    const s = await wsServer({ requireAuth: true, authTimeoutMs: 600_000 });
    const r = await rawUpgrade(s.port, alice.fingerprint);
    cleanup.push(async () => r.socket.destroy());
    // The start of a 5 MiB message before any proof: 8 KiB is already over the 1 KiB pre-auth limit.
    r.socket.write(Buffer.concat([wsFrameHeader(5 * 1024 * KiB), Buffer.alloc(8 * KiB, 0x61)]));
    await r.closed;
    expect(s.stats.rejectedOverBudget).toBe(1);
    expect(s.authStats!.authenticated).toBe(0);
    // Pings before the proof are not held against it (ws consumes them whole).
    const p = await rawUpgrade(s.port, alice.fingerprint);
    cleanup.push(async () => p.socket.destroy());
    for (let i = 0; i < 20; i++) p.socket.write(wsFrame(Buffer.alloc(100, 1), { opcode: 0x9 }));
    await new Promise((res) => setTimeout(res, 100));
    expect(s.stats.rejectedOverBudget).toBe(1);
    p.socket.destroy();
    // An authenticated client may then send a message far over the pre-auth limit.
    const c = await wsClient(s.listenUrl, alice);
    await until(() => s.authStats!.authenticated === 1);
    const big = 'x'.repeat(512 * KiB);
    await c.send(msg(big));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe(big);
    expect(s.stats.rejectedOverBudget).toBe(1);
  });
});

describe('receive queue byte bound (H3)', () => {
  it('FrameReceiver: pauses its sources at half the bytes, refuses (counted, logged) over the bound, resumes at a quarter', () => {
    const instruments = new NetInstruments('tcp');
    const r = new FrameReceiver({ maxSize: 10_000, maxBytes: 100 * KiB, maxFrameBytes: 1024 * KiB, instruments });
    let paused = 0;
    r.attach({ pause: () => paused++, resume: () => paused-- });
    const body = encodeMessage(msg('y'.repeat(20 * KiB)));
    let queued = 0;
    for (let i = 0; i < 10; i++) if (r.deliver(body, 'peer')) queued++;
    expect(queued).toBe(Math.floor((100 * KiB) / body.byteLength));
    expect(r.bytes).toBeLessThanOrEqual(100 * KiB);
    expect(instruments.stats.droppedReceiveQueueFull).toBe(10 - queued);
    expect(r.paused).toBe(true);
    expect(paused).toBe(1);
    while (r.tryReceive()) {
      /* drain */
    }
    expect(r.bytes).toBe(0);
    expect(r.paused).toBe(false);
    expect(paused).toBe(0);
  });

  it('TCP: a consumer that does not read holds at most about maxReceiveQueueBytes; the senders are paused, nothing is lost', async () => {
    const s = await tcpServer({ maxReceiveQueueBytes: 512 * KiB });
    const a = await started(new TcpTransport({ listen: false }), cleanup);
    a.addPeer(bob.fingerprint, s.address);
    const n = 40;
    const big = 'z'.repeat(64 * KiB);
    const sends = Array.from({ length: n }, (_, i) => a.send(signMessage(createMessage({ recipient: bob.fingerprint, payload: `${i}:${big}` }), alice)));
    await Promise.all(sends);
    // Backpressure: reading stopped at half the byte bound (plus what was already in flight).
    await until(() => s.queuedBytes >= 256 * KiB);
    await new Promise((res) => setTimeout(res, 100));
    expect(s.queuedBytes).toBeLessThanOrEqual(512 * KiB);
    expect(s.queued).toBeLessThan(n);
    const got: string[] = [];
    for (let i = 0; i < n; i++) got.push(String((await s.receive({ timeoutMs: 10_000 }))?.payload as unknown).split(':')[0]!);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => String(i)));
    expect(s.stats.droppedReceiveQueueFull).toBe(0);
  });
});
