import { describe, expect, it } from 'vitest';
import { ConfigError, noopMetrics, type Metrics } from '@converge/core';
import { Registry } from 'prom-client';
import { MetricsCollector, pinoLogger, prometheusMetrics } from '@converge/observability';
import type { Logger } from '@converge/core';

describe('MetricsCollector as core Metrics', () => {
  it('the spec form and the positional form are one get-or-create', () => {
    const m = new MetricsCollector();
    const viaSpec = m.counter({ name: 'x_total', help: 'x', labelNames: ['a'] });
    expect(m.counter('x_total', 'x', ['a'])).toBe(viaSpec);
    viaSpec.inc({ a: 1 }, 2);
    expect(m.counter('x_total', 'x', ['a']).get({ a: 1 })).toBe(2);
    expect(() => m.gauge({ name: 'x_total', help: 'x', labelNames: ['a'] })).toThrow(ConfigError);
    const h = m.histogram({ name: 'h_seconds', help: 'h', buckets: [1, 2] });
    h.observe(undefined, 1.5);
    expect(m.histogram('h_seconds', 'h', [], [1, 2]).get()).toEqual({ count: 1, sum: 1.5 });
  });

  it('describe() lists every registered metric with kind, help, labels and buckets', () => {
    const m: MetricsCollector = prometheusMetrics(new Registry());
    const asContract: Metrics = m;
    asContract.gauge({ name: 'g', help: 'a gauge', labelNames: ['s'] });
    asContract.histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 1] });
    asContract.counter({ name: 'c_total', help: 'c' });
    expect(m.describe()).toEqual([
      { name: 'c_total', kind: 'counter', help: 'c', labelNames: [] },
      { name: 'g', kind: 'gauge', help: 'a gauge', labelNames: ['s'] },
      { name: 'h_seconds', kind: 'histogram', help: 'h', labelNames: [], buckets: [0.1, 1] },
    ]);
  });

  it('prometheusMetrics() uses the given registry, never the global one', async () => {
    const registry = new Registry();
    prometheusMetrics(registry).counter({ name: 'own_total', help: 'o' }).inc();
    expect(await registry.metrics()).toContain('own_total 1');
  });

  it('noopMetrics hands out handles that accept every call; a pino logger is a core Logger', () => {
    noopMetrics.counter({ name: 'n', help: 'n' }).inc({ a: 1 });
    noopMetrics.gauge({ name: 'n', help: 'n' }).set(undefined, 3);
    noopMetrics.histogram({ name: 'n', help: 'n' }).observe(undefined, 1);
    const logger: Logger = pinoLogger({ level: 'silent' });
    expect(logger.child({ a: 1 }).isLevelEnabled?.('info')).toBe(false);
  });
});
