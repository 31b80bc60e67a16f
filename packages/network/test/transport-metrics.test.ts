import { describe, expect, it } from 'vitest';
import { Identity, createMessage, noopLogger, noopMetrics, signMessage } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import { IdentityRegistry, MessageVerifier, VERIFY_DURATION_BUCKETS } from '@converge/network';

describe('verifier metrics through the core Metrics contract', () => {
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
