import { afterEach, describe, expect, it } from 'vitest';
import { Identity, createMessage, noopLogger, noopMetrics, signMessage } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import { IdentityRegistry, MessageVerifier, TcpTransport, VERIFY_DURATION_BUCKETS } from '@converge/network';
import { until } from './tcp/helpers.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

describe('transport and verifier metrics through the core Metrics contract', () => {
  it('TCP counts bytes both ways and keeps a gauge of open connections', async () => {
    const metrics = new MetricsCollector();
    const alice = Identity.generate();
    const bob = Identity.generate();
    const a = new TcpTransport({ identity: alice, metrics });
    const b = new TcpTransport({ identity: bob, metrics });
    await a.start();
    await b.start();
    let stopped = false;
    stops.push(async () => {
      if (!stopped) await Promise.all([a.stop(), b.stop()]);
    });
    a.addPeer(bob.fingerprint, b.address);
    await a.send(signMessage(createMessage({ recipient: bob.fingerprint, payload: { hello: 'x'.repeat(100) } }), alice));
    expect((await b.receive({ timeoutMs: 10_000 }))?.payload).toEqual({ hello: 'x'.repeat(100) });
    const bytes = (dir: 'sent' | 'received') => metrics.counter(`converge_transport_bytes_${dir}_total`, 'x', ['transport']).get({ transport: 'tcp' });
    expect(bytes('sent')).toBe(a.stats.bytesSent);
    expect(bytes('sent')).toBeGreaterThan(100);
    await until(() => bytes('received') === a.stats.bytesSent);
    const open = metrics.gauge('converge_transport_connections', 'Connections open now, by direction', ['transport', 'direction']);
    expect(open.get({ transport: 'tcp', direction: 'outbound' })).toBe(1);
    expect(open.get({ transport: 'tcp', direction: 'inbound' })).toBe(1);
    await Promise.all([a.stop(), b.stop()]);
    stopped = true;
    await until(() => open.get({ transport: 'tcp', direction: 'inbound' }) === 0 && open.get({ transport: 'tcp', direction: 'outbound' }) === 0);
  });

  it('MessageVerifier times each check in a histogram and counts rejections by reason', async () => {
    const metrics = new MetricsCollector();
    const registry = new IdentityRegistry();
    const alice = Identity.generate();
    registry.register(alice);
    const v = new MessageVerifier({ registry, metrics });
    const m = signMessage(createMessage({ payload: 1 }), alice);
    expect(v.check(m).ok).toBe(true);
    expect(v.check(m).ok).toBe(false); // replay
    const stranger = Identity.generate();
    expect(v.check(signMessage(createMessage({ payload: 2 }), stranger)).ok).toBe(false);
    const h = metrics.histogram('converge_verify_duration_seconds', 'x', [], [...VERIFY_DURATION_BUCKETS]).get();
    expect(h.count).toBe(3);
    expect(h.sum).toBeGreaterThan(0);
    const text = await metrics.metrics();
    expect(text).toContain('converge_messages_rejected_total{reason="replay"} 1');
    expect(text).toContain('converge_messages_rejected_total{reason="unknown_sender"} 1');
  });

  it('components take the no-op defaults of core (noopMetrics, noopLogger) as well as nothing', async () => {
    const registry = new IdentityRegistry();
    const alice = Identity.generate();
    registry.register(alice);
    const v = new MessageVerifier({ registry, metrics: noopMetrics, logger: noopLogger });
    expect(v.check(signMessage(createMessage({ payload: 1 }), alice)).ok).toBe(true);
    expect(noopLogger.child({ a: 1 })).toBe(noopLogger);
  });
});
