// `converge run --metrics-port P` serves /metrics, /healthz and /readyz while it runs.
import { describe, expect, it } from 'vitest';
import { freePort, runCli } from './run-cli.js';

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url);
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined; // not listening yet, or already closed
  }
}

describe('converge run --metrics-port', () => {
  it('answers /healthz and /readyz (agents and store checks) and /metrics while running', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const seen: { ready?: { status: number; body: string }; health?: { status: number; body: string }; metrics?: { status: number; body: string } } = {};
    let probing: Promise<void> | undefined;
    const r = await runCli(['run', '--duration', '0', '--agents', '2', '--json', '--metrics-port', String(port)], {
      timeoutMs: 60_000,
      onStderr: (text, child) => {
        if (probing || !/progress: [1-9]/.test(text)) return;
        probing = (async () => {
          // Ready once the agents run; bounded polling as a hang guard only.
          for (let i = 0; i < 200 && seen.ready?.status !== 200; i++) {
            seen.ready = await get(`${base}/readyz`);
            if (seen.ready?.status !== 200) await new Promise((res) => setTimeout(res, 50));
          }
          seen.health = await get(`${base}/healthz`);
          seen.metrics = await get(`${base}/metrics`);
          child.kill('SIGTERM');
        })();
      },
    });
    await probing;
    expect(r.code).toBe(0);
    expect(seen.ready?.status).toBe(200);
    const ready = JSON.parse(seen.ready!.body) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(ready.status).toBe('ok');
    expect(ready.checks['ready:agents']).toEqual({ ok: true, detail: '3 ready' });
    expect(ready.checks['ready:store']).toEqual({ ok: true });
    expect(seen.health?.status).toBe(200);
    expect(JSON.parse(seen.health!.body).checks.agents).toEqual({ ok: true, detail: '3 healthy' });
    expect(seen.metrics?.status).toBe(200);
    expect(seen.metrics!.body).toContain('converge_runtime_messages_received_total');
  });
});
