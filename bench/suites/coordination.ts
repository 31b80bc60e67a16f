// coordination.claim_report_memory: claim + report per second, one agent, 10,000 pre-submitted
//   tasks on a MemoryStore (the Python reference's bookkeeping-only loop: 1.09M/s).
// coordination.claim_report_file: the same on a FileStore (500·scale tasks).
// coordination.contended_claims: 8 concurrent claimers on one MemoryStore (claims/s), and
//   coordination.contended_lost_races: claims refused because another claimer won.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError, type Store } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import * as storage from '@converge/extensions/storage';
import { TaskManager } from '@converge/coordination';
import type { BenchContext } from '../harness.js';

async function fill(tm: TaskManager, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await tm.submit({ id: `t${i}`, objective: 'bench', inputs: { i } })).id);
  return ids;
}

async function claimReport(store: Store, n: number): Promise<number> {
  const tm = new TaskManager({ store });
  const ids = await fill(tm, n);
  const t0 = process.hrtime.bigint();
  for (const id of ids) {
    const lease = await tm.claim('agent', id);
    await tm.report('agent', id, 1, lease);
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (tm.stats().completed !== n) throw new Error('not every task completed');
  return n / s;
}

export default async function coordinationBench(ctx: BenchContext): Promise<void> {
  const n = Math.max(1_000, Math.round(10_000 * ctx.scale));
  await claimReport(new MemoryStore(), Math.min(n, 2_000)); // warm-up
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) runs.push(await claimReport(new MemoryStore(), n));
  ctx.log(`claim+report on MemoryStore, ${n} tasks, 3 runs: ${runs.map((x) => Math.round(x)).join(', ')} /s`);
  ctx.report({ name: 'coordination.claim_report_memory', value: Math.max(...runs), unit: 'ops/s' });

  const FileStore = (storage as Record<string, unknown>).FileStore as (new (o: { dir: string }) => Store) | undefined;
  if (FileStore) {
    const dir = await mkdtemp(join(tmpdir(), 'converge-bench-'));
    try {
      const store = new FileStore({ dir });
      await store.start?.();
      const m = Math.max(50, Math.round(500 * ctx.scale));
      ctx.report({ name: 'coordination.claim_report_file', value: await claimReport(store, m), unit: 'ops/s' });
      await store.stop?.();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else {
    ctx.log('FileStore not available: coordination.claim_report_file skipped');
  }

  // Eight claimers, each with its own TaskManager, all walking the same task list.
  const store = new MemoryStore();
  const ids = await fill(new TaskManager({ store }), n);
  let lost = 0;
  const t0 = process.hrtime.bigint();
  const managers = Array.from({ length: 8 }, () => new TaskManager({ store }));
  await Promise.all(
    managers.map(async (tm, w) => {
      for (const id of ids) {
        try {
          await tm.claim(`agent${w}`, id);
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          lost++;
        }
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const claims = managers.reduce((a, tm) => a + tm.stats().claims, 0);
  if (claims !== n) throw new Error(`expected ${n} claims, got ${claims}`);
  ctx.report({ name: 'coordination.contended_claims', value: claims / s, unit: 'claims/s' });
  ctx.report({ name: 'coordination.contended_lost_races', value: lost, unit: 'count' });
}
