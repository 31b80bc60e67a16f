import { afterEach, describe, expect, it } from 'vitest';
import { Identity, createMessage, isTransport, signMessage } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import { tcp } from '../src/index.js';
import { until } from '../../../test/support/transport-helpers.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

describe('TCP metrics through the core Metrics contract', () => {
  it('TCP (built by tcp(init)(components)) registers its metrics on the components, counts bytes both ways and keeps a gauge of open connections', async () => {
    const metrics = new MetricsCollector();
    const alice = Identity.generate();
    const bob = Identity.generate();
    const a = tcp({ maxPeers: 4 })({ identity: alice, metrics });
    const b = tcp()({ identity: bob, metrics });
    expect(isTransport(a)).toBe(true);
    expect(a.agentId).toBe(alice.fingerprint);
    expect(await metrics.metrics()).toContain('converge_transport_connections');
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
});
