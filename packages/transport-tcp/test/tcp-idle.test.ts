// Inbound idle timeout: silent connections and connections stuck in a partial frame are closed
// and counted, so they cannot hold maxInboundConnections; active ones stay open.
import { describe, expect, it } from 'vitest';
import { Identity, ValidationError, createMessage, encodeMessage, signMessage, type WireValue } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import { encodeFrame } from '@converge/network/internal';
import { DEFAULT_IDLE_TIMEOUT_MS, TcpTransport } from '../src/index.js';
import { cleanupAfterEach, rawConnection, started, until } from '../../../test/support/transport-helpers.js';

const alice = Identity.generate();
const cleanup = cleanupAfterEach();

const server = (options: ConstructorParameters<typeof TcpTransport>[0]) => started(new TcpTransport({ port: 0, ...options }), cleanup);
const raw = (port: number) => rawConnection(port, cleanup);
const frame = (payload: WireValue) => encodeFrame(encodeMessage(signMessage(createMessage({ payload }), alice)));

describe('TcpTransport idle timeout', () => {
  it('defaults to 120 s; 0 disables; invalid values are refused', () => {
    expect(DEFAULT_IDLE_TIMEOUT_MS).toBe(120_000);
    expect(() => new TcpTransport({ idleTimeoutMs: -1 })).toThrow(ValidationError);
    expect(() => new TcpTransport({ idleTimeoutMs: 1.5 })).toThrow(ValidationError);
    expect(new TcpTransport({ idleTimeoutMs: 0 }).idleClosed).toBe(0);
  });

  it('closes silent and half-frame connections and counts them; frees slots for new clients', async () => {
    const metrics = new MetricsCollector();
    const s = await server({ idleTimeoutMs: 100, maxInboundConnections: 2, metrics });
    const silent = await raw(s.port);
    const partial = await raw(s.port);
    const f = frame('cut');
    partial.socket.write(f.subarray(0, f.byteLength - 3)); // a frame that never completes
    await Promise.all([silent.closed, partial.closed]);
    expect(s.idleClosed).toBe(2);
    expect(await metrics.metrics()).toMatch(/converge_transport_idle_closed_total\{transport="tcp"\} 2/);
    await until(() => s.openConnections === 0);
    expect(s.stats.rejectedTruncated).toBe(1); // the cut frame is discarded and counted as before
    // Both slots are free again: a client that talks gets through.
    const c = await raw(s.port);
    c.socket.write(frame('after'));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('after');
  });

  it('keeps connections that keep sending; idleTimeoutMs 0 never closes', async () => {
    const s = await server({ idleTimeoutMs: 150 });
    const busy = await raw(s.port);
    for (let i = 0; i < 6; i++) {
      busy.socket.write(frame(i));
      await new Promise((r) => setTimeout(r, 60)); // 360 ms in all, never 150 ms silent
    }
    for (let i = 0; i < 6; i++) expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe(i);
    expect(busy.socket.destroyed).toBe(false);
    expect(s.idleClosed).toBe(0);

    const never = await server({ idleTimeoutMs: 0 });
    const quiet = await raw(never.port);
    await new Promise((r) => setTimeout(r, 300));
    expect(quiet.socket.destroyed).toBe(false);
    expect(never.idleClosed).toBe(0);
    expect(never.openConnections).toBe(1);
  });
});
