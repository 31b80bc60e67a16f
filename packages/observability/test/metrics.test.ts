import { describe, expect, it } from 'vitest';
import { Registry, register as globalRegistry } from 'prom-client';
import { ConfigError, ValidationError } from '@converge/core';
import { MetricsCollector } from '../src/index.js';

describe('MetricsCollector', () => {
  it('counts by label and exposes Prometheus text', async () => {
    const m = new MetricsCollector();
    const c = m.counter('converge_test_total', 'Test counter', ['reason']);
    c.inc({ reason: 'stale' });
    c.inc({ reason: 'stale' }, 2);
    c.inc({ reason: 'replay' });
    expect(c.get({ reason: 'stale' })).toBe(3);
    expect(c.get({ reason: 'replay' })).toBe(1);
    expect(c.get({ reason: 'never' })).toBe(0);
    const text = await m.metrics();
    expect(text).toContain('# HELP converge_test_total Test counter');
    expect(text).toContain('# TYPE converge_test_total counter');
    expect(text).toContain('converge_test_total{reason="stale"} 3');
    expect(text).toContain('converge_test_total{reason="replay"} 1');
  });

  it('gauges go up and down; histograms count and sum', async () => {
    const m = new MetricsCollector();
    const g = m.gauge('queue_depth', 'Depth', ['queue']);
    g.set({ queue: 'a' }, 10);
    g.inc({ queue: 'a' }, 5);
    g.dec({ queue: 'a' });
    expect(g.get({ queue: 'a' })).toBe(14);
    const unlabelled = m.gauge('up', 'Up');
    unlabelled.set(undefined, 1);
    expect(unlabelled.get()).toBe(1);
    const h = m.histogram('latency_seconds', 'Latency', ['op'], [0.1, 1]);
    h.observe({ op: 'x' }, 0.05);
    h.observe({ op: 'x' }, 0.5);
    h.observe({ op: 'x' }, 5);
    expect(h.get({ op: 'x' })).toEqual({ count: 3, sum: 5.55 });
    const text = await m.metrics();
    expect(text).toContain('latency_seconds_bucket{le="0.1",op="x"} 1');
    expect(text).toContain('latency_seconds_bucket{le="1",op="x"} 2');
    expect(text).toContain('latency_seconds_bucket{le="+Inf",op="x"} 3');
    expect(text).toContain('queue_depth{queue="a"} 14');
  });

  it('is get-or-create: the same name and shape returns the same handle', () => {
    const m = new MetricsCollector();
    const a = m.counter('shared_total', 'Shared', ['a', 'b']);
    const b = m.counter('shared_total', 'Shared (other help)', ['b', 'a']);
    expect(b).toBe(a);
    a.inc({ a: '1', b: '2' });
    expect(b.get({ a: '1', b: '2' })).toBe(1);
  });

  it('refuses a different type, label set or buckets under a taken name', () => {
    const m = new MetricsCollector();
    m.counter('x_total', 'X', ['a']);
    expect(() => m.gauge('x_total', 'X', ['a'])).toThrow(ConfigError);
    expect(() => m.counter('x_total', 'X', ['b'])).toThrow(ConfigError);
    expect(() => m.counter('x_total', 'X')).toThrow(ConfigError);
    m.histogram('h', 'H', [], [1, 2]);
    expect(() => m.histogram('h', 'H', [], [1, 3])).toThrow(ConfigError);
  });

  it('refuses invalid metric and label names', () => {
    const m = new MetricsCollector();
    for (const bad of ['1abc', 'a-b', '', 'a b', 'é']) expect(() => m.counter(bad, 'h')).toThrow(ConfigError);
    for (const bad of ['__reserved', 'a:b', '9x', 'a-b']) expect(() => m.counter('ok_total', 'h', [bad])).toThrow(ConfigError);
    expect(() => m.counter('dup_total', 'h', ['a', 'a'])).toThrow(ConfigError);
    expect(() => m.histogram('hh', 'h', ['le'])).toThrow(ConfigError);
    expect(() => m.histogram('hb', 'h', [], [2, 1])).toThrow(ConfigError);
    expect(() => new MetricsCollector({ prefix: 'bad-prefix' })).toThrow(ConfigError);
    expect(() => new MetricsCollector({ defaultLabels: { __x: 'y' } })).toThrow(ConfigError);
    // colons are legal in metric names
    expect(() => m.counter('ns:ok_total', 'h')).not.toThrow();
  });

  it('refuses an unknown label or negative increment at use with ValidationError', () => {
    const m = new MetricsCollector();
    const c = m.counter('use_total', 'h', ['a']);
    expect(() => c.inc({ b: 'x' })).toThrow(ValidationError);
    expect(() => c.inc({ a: 'x' }, -1)).toThrow(ValidationError);
    expect(c.get({ a: 'x' })).toBe(0);
  });

  it('uses its own registry, a prefix and default labels; never the global registry', async () => {
    const registry = new Registry();
    const m = new MetricsCollector({ registry, prefix: 'app_', defaultLabels: { node: 'n1' } });
    m.counter('hits_total', 'Hits').inc();
    expect(m.registry).toBe(registry);
    const text = await registry.metrics();
    expect(text).toContain('app_hits_total{node="n1"} 1');
    expect(await globalRegistry.metrics()).not.toContain('app_hits_total');
    expect(m.contentType).toContain('text/plain');
    // two collectors are independent
    const other = new MetricsCollector();
    other.counter('app_hits_total', 'Hits');
    expect(m.counter('hits_total', 'Hits').get()).toBe(1);
  });

  it('refuses a name registered in a shared registry by someone else', () => {
    const registry = new Registry();
    new MetricsCollector({ registry }).counter('taken_total', 'T');
    expect(() => new MetricsCollector({ registry }).counter('taken_total', 'T')).toThrow(ConfigError);
  });
});
