import { describe, expect, it } from 'vitest';
import { ConfigError, LimitExceededError } from '@converge/core';
import { HealthChecks, MetricsCollector, serveMetrics, MAX_CHECK_DETAIL } from '../src/index.js';

describe('HealthChecks', () => {
  it('passes when every check passes; fails, naming the check and why, when one does not', async () => {
    const h = new HealthChecks();
    expect(await h.health()).toEqual({ ok: true, checks: {} });
    h.addHealthCheck('db', () => true);
    h.addHealthCheck('queue', async () => ({ ok: true, detail: '3 waiting' }));
    expect(await h.health()).toEqual({ ok: true, checks: { db: { ok: true }, queue: { ok: true, detail: '3 waiting' } } });
    const remove = h.addHealthCheck('disk', () => ({ ok: false, detail: 'full' }));
    expect(await h.health()).toEqual({
      ok: false,
      checks: { db: { ok: true }, queue: { ok: true, detail: '3 waiting' }, disk: { ok: false, detail: 'full' } },
    });
    remove();
    expect((await h.health()).ok).toBe(true);
  });

  it('a check that throws, rejects, returns junk or hangs fails (bounded by timeoutMs); the hanging one sees its signal abort', async () => {
    const h = new HealthChecks({ timeoutMs: 50 });
    let aborted = false;
    h.addHealthCheck('throws', () => {
      throw new Error('boom');
    });
    h.addHealthCheck('rejects', () => Promise.reject(new Error('later boom')));
    h.addHealthCheck('junk', () => 'yes' as never);
    h.addHealthCheck('hangs', (signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))));
    h.addHealthCheck('long', () => ({ ok: false, detail: 'x'.repeat(10_000) }));
    const r = await h.health();
    expect(r.ok).toBe(false);
    expect(r.checks.throws).toEqual({ ok: false, detail: 'boom' });
    expect(r.checks.rejects).toEqual({ ok: false, detail: 'later boom' });
    expect(r.checks.junk!.ok).toBe(false);
    expect(r.checks.hangs).toEqual({ ok: false, detail: 'check timed out after 50 ms' });
    expect(aborted).toBe(true);
    expect(r.checks.long!.detail!.length).toBe(MAX_CHECK_DETAIL + 3);
  });

  it('readiness runs the health checks too: what is not healthy is not ready', async () => {
    const h = new HealthChecks();
    let healthy = true;
    h.addHealthCheck('live', () => healthy);
    h.addReadyCheck('warm', () => true);
    expect(await h.readiness()).toEqual({ ok: true, checks: { live: { ok: true }, 'ready:warm': { ok: true } } });
    healthy = false;
    expect((await h.readiness()).ok).toBe(false);
    expect((await h.health()).ok).toBe(false);
  });

  it('probes that arrive while a report is being made share it (each check runs once at a time)', async () => {
    const h = new HealthChecks();
    let runs = 0;
    let release!: () => void;
    h.addHealthCheck('slow', () => {
      runs++;
      return new Promise<boolean>((resolve) => (release = () => resolve(true)));
    });
    const reports = [h.health(), h.health(), h.health()];
    await new Promise((r) => setImmediate(r));
    release();
    expect((await Promise.all(reports)).every((r) => r.ok)).toBe(true);
    expect(runs).toBe(1);
  });

  it('is bounded and validates what it is given', () => {
    const h = new HealthChecks({ maxChecks: 2 });
    h.addHealthCheck('a', () => true);
    h.addHealthCheck('b', () => true);
    h.addHealthCheck('b', () => false); // replacing is not adding
    expect(() => h.addHealthCheck('c', () => true)).toThrow(LimitExceededError);
    h.addReadyCheck('c', () => true); // each kind has its own bound
    expect(() => h.addHealthCheck('', () => true)).toThrow(ConfigError);
    expect(() => h.addHealthCheck('bad name', () => true)).toThrow(ConfigError);
    expect(() => h.addReadyCheck('x', 'nope' as never)).toThrow(ConfigError);
    expect(() => new HealthChecks({ timeoutMs: 0 })).toThrow(ConfigError);
    expect(() => new HealthChecks({ maxChecks: 0 })).toThrow(ConfigError);
    expect(h.names()).toEqual({ health: ['a', 'b'], readiness: ['c'] });
  });
});

describe('serveMetrics with health checks', () => {
  it('answers /healthz and /readyz over real HTTP: 200 when passing, 503 with the report when not', async () => {
    const collector = new MetricsCollector();
    const health = new HealthChecks();
    let ready = false;
    health.addHealthCheck('alive', () => true);
    health.addReadyCheck('warm', () => ({ ok: ready, detail: ready ? 'warm' : 'warming up' }));
    const server = await serveMetrics({ port: 0, collector, health });
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const live = await fetch(`${base}/healthz`);
      expect(live.status).toBe(200);
      expect(live.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await live.json()).toEqual({ status: 'ok', checks: { alive: { ok: true } } });
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: 'fail', checks: { alive: { ok: true }, 'ready:warm': { ok: false, detail: 'warming up' } } });
      ready = true;
      const nowReady = await fetch(`${base}/readyz`);
      expect(nowReady.status).toBe(200);
      await nowReady.text();
      const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      const post = await fetch(`${base}/healthz`, { method: 'POST' });
      expect(post.status).toBe(405);
      await post.text();
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      await metrics.text();
    } finally {
      await server.close();
    }
  });

  it('without checks, /healthz and /readyz are not served (404), as before', async () => {
    const server = await serveMetrics({ port: 0, collector: new MetricsCollector() });
    try {
      for (const p of ['/healthz', '/readyz']) {
        const r = await fetch(`http://127.0.0.1:${server.port}${p}`);
        expect(r.status).toBe(404);
        await r.text();
      }
    } finally {
      await server.close();
    }
  });
});
