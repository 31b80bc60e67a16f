// L7 slowloris: peers trickling one byte of a frame at a time used to hold every inbound slot
// (the idle timeout never fires: each byte restarts it). Now a connection whose unfinished
// frame progresses by less than `frameProgressMinBytes` per `frameProgressTimeoutMs`, or that
// holds one frame longer than `maxFrameTimeMs`, is closed and counted (`slow`). Real sockets.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, signMessage } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import { TcpTransport } from '@converge/transport-tcp';
import { WebSocketTransport } from '../../src/index.js';
import { cleanupAfterEach, rawConnection, started, until } from '../../../../test/support/transport-helpers.js';
import { rawUpgrade, wsFrameHeader } from '../raw-ws.js';

const alice = Identity.generate();
const bob = Identity.generate();
const cleanup = cleanupAfterEach();

const SLOTS = 4;
// Small windows so the test is quick; the defaults are 1,024 bytes per 10,000 ms.
const SLOW = { frameProgressTimeoutMs: 300, frameProgressMinBytes: 64 } as const;

/** Writes `head`, then one byte every ~100 ms until the socket closes. Returns a stopper. */
function trickle(socket: net.Socket, head: Buffer): () => void {
  socket.write(head);
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(Buffer.from([0x61]));
  }, 100);
  const stop = (): void => clearInterval(timer);
  socket.once('close', stop);
  cleanup.push(async () => {
    stop();
    socket.destroy();
  });
  return stop;
}
const toBob = (payload: string) => signMessage(createMessage({ recipient: bob.fingerprint, payload }), alice);

/** A started TCP client (no listener) routing bob to the server `s`. */
async function tcpClient(s: TcpTransport): Promise<TcpTransport> {
  const a = await started(new TcpTransport({ listen: false }), cleanup);
  a.addPeer(bob.fingerprint, s.address);
  return a;
}

describe('slowloris (L7)', () => {
  it('TCP: slow connections holding every slot are closed and counted; a legit client then connects and delivers', async () => {
    const metrics = new MetricsCollector();
    const s = await started(new TcpTransport({ port: 0, maxInboundConnections: SLOTS, ...SLOW, metrics }), cleanup);
    const slow = [];
    for (let i = 0; i < SLOTS; i++) {
      const c = await rawConnection(s.port);
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(1_000, 0); // a 1,000-byte frame, delivered a byte per 100 ms
      trickle(c.socket, prefix);
      slow.push(c);
    }
    await until(() => s.inboundBytes > 0 && s.openConnections === SLOTS);
    // The idle timeout (120 s) would never fire: every byte restarts it. The rate check does.
    await Promise.all(slow.map((c) => c.closed));
    expect(s.stats.rejectedSlow).toBe(SLOTS);
    expect(s.idleClosed).toBe(0);
    expect(await metrics.metrics()).toMatch(/converge_frames_rejected_total\{transport="tcp",reason="slow"\} 4/);
    const a = await tcpClient(s);
    await a.send(toBob('legit'));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('legit');
  });

  it('TCP: a frame held longer than maxFrameTimeMs is closed even at a good rate', async () => {
    const s = await started(new TcpTransport({ port: 0, frameProgressTimeoutMs: 200, frameProgressMinBytes: 1, maxFrameTimeMs: 600 }), cleanup);
    const c = await rawConnection(s.port);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(1_000_000, 0);
    trickle(c.socket, prefix); // 10 B/s: over the 1 B per 200 ms rate, but the frame never ends
    await c.closed;
    expect(s.stats.rejectedSlow).toBe(1);
  });

  it('TCP: fast senders of many frames are never counted slow', async () => {
    const s = await started(new TcpTransport({ port: 0, frameProgressTimeoutMs: 100, frameProgressMinBytes: 1, maxFrameTimeMs: 200 }), cleanup);
    const a = await tcpClient(s);
    const n = 2_000;
    const startedAt = performance.now();
    let sent = 0;
    let received = 0;
    let sending = true;
    // The receiver drains while the sender sends: its receive queue is bounded (in messages and
    // bytes), so a receiver that waited for the end would pause the socket and stall the sender.
    const draining = (async () => {
      while (sending || received < sent) {
        if ((await s.receive({ timeoutMs: 10_000 })) === null) break;
        received++;
      }
    })();
    // Keep sending for well over maxFrameTimeMs: frames cut across reads are completed, so the
    // per-frame clock restarts and the stream is never taken for one slow frame.
    while (performance.now() - startedAt < 600 || sent < n) {
      await Promise.all(Array.from({ length: 100 }, () => a.send(toBob('x'.repeat(3_000)))));
      sent += 100;
    }
    sending = false;
    await draining;
    expect(received).toBe(sent);
    expect(s.stats.rejectedSlow).toBe(0);
  });

  const slowWsClients = [
    {
      title: 'WebSocket: slow clients trickling a message are closed and counted; a legit client then connects and delivers',
      // Upgraded, then a 1,000-byte message trickled.
      connect: (port: number, i: number) => rawUpgrade(port, `slow-${i}`),
      head: wsFrameHeader(1_000),
      payload: 'legit ws',
    },
    {
      title: 'WebSocket: clients trickling the upgrade request (HTTP headers) are closed and counted too',
      connect: (port: number) => rawConnection(port),
      head: Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `),
      payload: 'legit after slow headers',
    },
  ];
  for (const { title, connect, head, payload } of slowWsClients) {
    it(title, async () => {
      const s = await started(new WebSocketTransport({ port: 0, identity: bob, maxClients: SLOTS, ...SLOW }), cleanup);
      const slow = [];
      for (let i = 0; i < SLOTS; i++) {
        const c = await connect(s.port, i);
        trickle(c.socket, head);
        slow.push(c);
      }
      await Promise.all(slow.map((c) => c.closed));
      expect(s.stats.rejectedSlow).toBe(SLOTS);
      const c = await started(
        new WebSocketTransport({ url: s.listenUrl, identity: alice, reconnect: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 } }),
        cleanup,
      );
      await c.send(signMessage(createMessage({ payload }), alice));
      expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe(payload);
    });
  }
});
