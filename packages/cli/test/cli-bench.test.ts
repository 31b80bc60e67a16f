// `converge bench`: the engine figures of the user's setup, against the real servers — the
// bare engine loop and the engine's own task queue, with the ratio between them.
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const REDIS_URL = process.env.CONVERGE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL = process.env.CONVERGE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function figures(stdout: string): { name: string; value: number; unit: string; baseline?: string; ratio?: number }[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('converge bench', () => {
  it('measures the portable queue on memory', async () => {
    const r = await runCli(['bench', '--store', 'memory', '--seconds', '0.3', '--tasks', '500', '--json'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const [f] = figures(r.stdout);
    expect(f).toMatchObject({ name: 'queue.store_claim_report', unit: 'tasks/s' });
    expect(f!.value).toBeGreaterThan(0);
  }, 70_000);

  it.each([
    ['redis', REDIS_URL, 'raw.redis_lua_cas', 'queue.redis_claim_report'],
    ['postgres', PG_URL, 'raw.postgres_skip_locked', 'queue.postgres_claim_report'],
  ])(
    'on %s: the bare engine loop, then the queue with it as baseline',
    async (_name, url, raw, queue) => {
      const r = await runCli(['bench', '--store', url, '--seconds', '0.3', '--tasks', '2000', '--json'], { timeoutMs: 90_000 });
      expect(r.code, r.stderr).toBe(0);
      const fs = figures(r.stdout);
      expect(fs.map((f) => f.name)).toEqual([raw, queue]);
      expect(fs[0]!.value).toBeGreaterThan(0);
      expect(fs[1]).toMatchObject({ baseline: raw, unit: 'tasks/s' });
      expect(fs[1]!.ratio).toBeCloseTo(fs[1]!.value / fs[0]!.value, 2);
    },
    100_000,
  );

  it('prints a table without --json, and refuses bad options with exit 2', async () => {
    const table = await runCli(['bench', '--seconds', '0.2', '--tasks', '100'], { timeoutMs: 60_000 });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('queue.store_claim_report');
    const bad = await runCli(['bench', '--seconds', '0'], { timeoutMs: 30_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--seconds must be');
    const store = await runCli(['bench', '--store', 'file:/tmp/x'], { timeoutMs: 30_000 });
    expect(store.code).toBe(2);
    expect(store.stderr).toContain('--store must be');
  }, 70_000);
});
