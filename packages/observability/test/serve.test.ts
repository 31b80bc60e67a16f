import { describe, expect, it } from 'vitest';
import { ConfigError } from '@converge/core';
import { MetricsCollector, serveMetrics } from '../src/index.js';

describe('serveMetrics', () => {
  it('answers GET /metrics with the Prometheus exposition over real HTTP, 404 elsewhere', async () => {
    const collector = new MetricsCollector();
    collector.counter('converge_test_scrapes_total', 'Scrapes', ['kind']).inc({ kind: 'a' }, 7);
    const server = await serveMetrics({ port: 0, collector });
    try {
      expect(server.port).toBeGreaterThan(0);
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(collector.registry.contentType);
      const body = await res.text();
      expect(body).toContain('# TYPE converge_test_scrapes_total counter');
      expect(body).toContain('converge_test_scrapes_total{kind="a"} 7');
      const withQuery = await fetch(`http://127.0.0.1:${server.port}/metrics?x=1`);
      expect(withQuery.status).toBe(200);
      await withQuery.text();
      const missing = await fetch(`http://127.0.0.1:${server.port}/other`);
      expect(missing.status).toBe(404);
      await missing.text();
      const post = await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' });
      expect(post.status).toBe(405);
      await post.text();
    } finally {
      await server.close();
    }
    await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
  });

  it('serves a custom path and closes on abort', async () => {
    const collector = new MetricsCollector();
    const ac = new AbortController();
    const server = await serveMetrics({ port: 0, host: '127.0.0.1', collector, path: '/prom', signal: ac.signal });
    const res = await fetch(`http://127.0.0.1:${server.port}/prom`);
    expect(res.status).toBe(200);
    await res.text();
    ac.abort();
    await server.close();
    await expect(fetch(`http://127.0.0.1:${server.port}/prom`)).rejects.toThrow();
  });

  it('refuses bad options and reports a taken port', async () => {
    const collector = new MetricsCollector();
    await expect(serveMetrics({ port: -1, collector })).rejects.toThrow(ConfigError);
    await expect(serveMetrics({ port: 0, collector, path: 'metrics' })).rejects.toThrow(ConfigError);
    const first = await serveMetrics({ port: 0, collector });
    try {
      await expect(serveMetrics({ port: first.port, collector })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
