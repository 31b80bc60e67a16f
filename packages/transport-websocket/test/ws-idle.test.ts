// WebSocket servers had no idle timeout: a client that upgraded and then went silent held a
// `maxClients` slot forever. The TCP mechanism (`IdleReaper`, tcp-idle.ts) now arms on every
// upgraded WebSocket connection too: silent clients are closed and counted, active ones stay.
import { describe, expect, it } from 'vitest';
import { Identity, ValidationError, createMessage, signMessage } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import { WebSocketTransport } from '../src/index.js';
import { cleanupAfterEach, until } from '../../../test/support/transport-helpers.js';
import { rawUpgrade, wsFrame } from './raw-ws.js';

const alice = Identity.generate();
const cleanup = cleanupAfterEach();

type Opts = ConstructorParameters<typeof WebSocketTransport>[0];
async function server(options: Opts): Promise<WebSocketTransport> {
  const t = new WebSocketTransport({ port: 0, ...options });
  await t.start();
  cleanup.push(() => t.stop());
  return t;
}

describe('WebSocketTransport idle timeout', () => {
  it('validates idleTimeoutMs like TCP (0 disables)', () => {
    expect(() => new WebSocketTransport({ port: 0, idleTimeoutMs: -1 })).toThrow(ValidationError);
    expect(() => new WebSocketTransport({ port: 0, idleTimeoutMs: 2.5 })).toThrow(ValidationError);
    expect(new WebSocketTransport({ port: 0, idleTimeoutMs: 0 }).idleClosed).toBe(0);
  });

  it('closes silent clients (also with requireAuth, before the proof) and counts them; frees slots', async () => {
    const metrics = new MetricsCollector();
    const s = await server({ idleTimeoutMs: 150, maxClients: 2, metrics });
    const a = await rawUpgrade(s.port, 'silent-1');
    const b = await rawUpgrade(s.port, 'silent-2');
    cleanup.push(
      async () => a.socket.destroy(),
      async () => b.socket.destroy(),
    );
    await Promise.all([a.closed, b.closed]);
    expect(s.idleClosed).toBe(2);
    expect(await metrics.metrics()).toMatch(/converge_transport_idle_closed_total\{transport="websocket"\} 2/);
    await until(() => s.openConnections === 0);
    // The slots are free: a client that talks gets through.
    const c = new WebSocketTransport({ url: s.listenUrl, identity: alice, reconnect: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 } });
    await c.start();
    cleanup.push(() => c.stop());
    await c.send(signMessage(createMessage({ payload: 'after idle' }), alice));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('after idle');

    // With requireAuth and a long auth timeout, a silent client is still closed by the idle timeout.
    const auth = await server({ idleTimeoutMs: 150, requireAuth: true, authTimeoutMs: 600_000 });
    const r = await rawUpgrade(auth.port, alice.fingerprint);
    cleanup.push(async () => r.socket.destroy());
    await r.closed;
    expect(auth.idleClosed).toBe(1);
  });

  it('keeps clients that keep sending; idleTimeoutMs 0 never closes', async () => {
    const s = await server({ idleTimeoutMs: 200 });
    const r = await rawUpgrade(s.port, 'chatty');
    cleanup.push(async () => r.socket.destroy());
    let closed = false;
    void r.closed.then(() => (closed = true));
    // A ping every 50 ms for 4 idle periods.
    for (let i = 0; i < 16; i++) {
      r.socket.write(wsFrame(Buffer.from('hi'), { opcode: 0x9 }));
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(closed).toBe(false);
    expect(s.idleClosed).toBe(0);

    const never = await server({ idleTimeoutMs: 0 });
    const q = await rawUpgrade(never.port, 'quiet');
    cleanup.push(async () => q.socket.destroy());
    let qClosed = false;
    void q.closed.then(() => (qClosed = true));
    await new Promise((res) => setTimeout(res, 300));
    expect(qClosed).toBe(false);
    expect(never.idleClosed).toBe(0);
  });
});
