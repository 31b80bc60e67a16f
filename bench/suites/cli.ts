// cli.run_8x5000: tasks/s of `converge run --agents 8 --tasks 5000 --json`, taken from its summary.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../harness.js';

export default async function cliBench(ctx: BenchContext): Promise<void> {
  const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
  const tasks = Math.max(500, Math.round(5000 * ctx.scale));
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@converge/source', bin, 'run', '--agents', '8', '--tasks', String(tasks), '--json'], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`converge run exited ${r.status}: ${r.stderr}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  ctx.log(`completed ${summary.completed}/${summary.tasks} in ${summary.duration_ms} ms, p50 ${summary.latency_ms.p50} ms`);
  ctx.report({ name: 'cli.run_8x5000', value: summary.tasks_per_s, unit: 'tasks/s' });
}
