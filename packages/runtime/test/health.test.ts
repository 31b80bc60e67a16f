import { describe, expect, it } from 'vitest';
import { Agent, Identity, type Decision } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { AgentRuntime } from '@converge/runtime';
import { stoppedAfterEach } from './helpers.js';

class Idle extends Agent {
  constructor() {
    super({ identity: Identity.generate() });
  }
  decide(): Decision[] {
    return [];
  }
}

const running = stoppedAfterEach<AgentRuntime>();

describe('AgentRuntime health and readiness checks', () => {
  it('has its own `runtime` checks: not ready before start, healthy and ready once running, neither after stop', async () => {
    const agent = new Idle();
    const rt = new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub: new LocalHub() }), tickIntervalMs: 1e9 });
    running.push(rt);
    expect((await rt.health.readiness()).checks['ready:runtime']!.ok).toBe(false);
    expect((await rt.health.health()).ok).toBe(false);
    await rt.start();
    expect(await rt.health.health()).toEqual({ ok: true, checks: { runtime: { ok: true } } });
    expect((await rt.health.readiness()).ok).toBe(true);
    await rt.stop();
    expect((await rt.health.health()).ok).toBe(false);
    expect((await rt.health.readiness()).ok).toBe(false);
  });

  it('takes pluggable checks (healthChecks, readyChecks) that can fail a running runtime', async () => {
    let dbUp = true;
    let warm = false;
    const agent = new Idle();
    const rt = new AgentRuntime({
      agent,
      tickIntervalMs: 1e9,
      healthChecks: { db: async () => ({ ok: dbUp, detail: dbUp ? 'up' : 'connection refused' }) },
      readyChecks: { cache: () => warm },
      healthOptions: { timeoutMs: 100 },
    });
    running.push(rt);
    await rt.start();
    expect((await rt.health.health()).ok).toBe(true);
    expect(await rt.health.readiness()).toEqual({
      ok: false,
      checks: { runtime: { ok: true }, db: { ok: true, detail: 'up' }, 'ready:runtime': { ok: true }, 'ready:cache': { ok: false } },
    });
    warm = true;
    expect((await rt.health.readiness()).ok).toBe(true);
    dbUp = false;
    const h = await rt.health.health();
    expect(h.ok).toBe(false);
    expect(h.checks.db).toEqual({ ok: false, detail: 'connection refused' });
    expect((await rt.health.readiness()).ok).toBe(false);
    // isHealthy() stays the runtime's own, synchronous verdict.
    expect(rt.isHealthy()).toBe(true);
    // More checks later.
    const remove = rt.health.addHealthCheck('late', () => {
      throw new Error('late check failed');
    });
    dbUp = true;
    expect((await rt.health.health()).checks.late).toEqual({ ok: false, detail: 'late check failed' });
    remove();
    expect((await rt.health.health()).ok).toBe(true);
  });
});
