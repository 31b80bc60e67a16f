// cli.run_8x5000: tasks/s of `converge run --scenario sum --agents 8 --tasks 5000 --json`, taken from its summary.
// cli.run_tasks_2k / cli.run_tasks_200k (+ _p99): one process, 8 agents, the default window.
// cli.scaleout_{redis,postgres,nats}: tasks/s of a coordinator process + 3 worker processes (4
// agents each) over NATS and the store's own task queue (nats: JetStream, with discovery in
// Redis), from the coordinator's summary (engines from CONVERGE_*_URL or the local defaults; the
// figure is skipped, with a log line, when an engine is not reachable).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dropNamespace } from '@converge/cli';
import type { BenchContext } from '../harness.js';

const REDIS = process.env.CONVERGE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NATS = process.env.CONVERGE_NATS_URL ?? 'nats://127.0.0.1:4222';

const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
const node = [process.execPath, '--import', 'tsx', '--conditions=@converge/source', bin, 'run'] as const;

function runAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(node[0], [...node.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function scaleOut(ctx: BenchContext, name: string, store: string, tasks: number): Promise<void> {
  const ns = `bench_${name}_${Date.now().toString(36)}`;
  const discoveryStore = name === 'nats' ? REDIS : undefined;
  const discovery = discoveryStore ? ['--discovery-store', discoveryStore] : [];
  const common = [
    '--store',
    store,
    ...discovery,
    '--store-namespace',
    ns,
    '--pool-id',
    ns,
    '--transport',
    NATS,
    '--json',
    '--log-level',
    'error',
    '--timeout-ms',
    '300000',
  ];
  const workers = [0, 1, 2].map(() => runAsync(['--role', 'worker', '--agents', '4', ...common]));
  const coord = await runAsync(['--role', 'coordinator', '--tasks', String(tasks), '--min-workers', '12', ...common]);
  await Promise.all(workers);
  // What the run left under its namespace: the store's own data, then the discovery store's.
  const cleanUp = async () => {
    await dropNamespace(store, ns);
    if (discoveryStore) await dropNamespace(discoveryStore, ns);
  };
  await cleanUp().catch((err) => ctx.log(`clean-up of ${ns} failed: ${(err as Error).message}`));
  if (coord.code !== 0) {
    ctx.log(`scale-out on ${name} skipped: coordinator exited ${coord.code}: ${coord.stderr.slice(-500)}`);
    return;
  }
  const s = JSON.parse(coord.stdout.trim().split('\n').pop()!) as ReturnType<typeof runSummary>;
  ctx.log(`scale-out ${name}: ${s.completed}/${s.tasks} in ${s.duration_ms} ms`);
  ctx.report({ name: `cli.scaleout_${name}`, value: s.tasks_per_s, unit: 'tasks/s' });
}

/** `converge run --scenario sum --json` with `args` (the classic workload); its summary (throws when the run fails). */
function runSummary(args: string[]): { tasks_per_s: number; completed: number; tasks: number; duration_ms: number; latency_ms: Record<string, number> } {
  const r = spawnSync(node[0], [...node.slice(1), '--scenario', 'sum', ...args, '--json'], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`converge run ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ReturnType<typeof runSummary>;
}

/**
 * cli.run_tasks_2k / cli.run_tasks_200k: one process, 8 agents, the default submission window;
 * the second's baseline is the first (throughput must not fall as the total grows), and the
 * p99 latency of each is reported (bounded by the window, not by the total).
 */
function runTasks(ctx: BenchContext): void {
  const small = runSummary(['--agents', '8', '--tasks', '2000']);
  const big = runSummary(['--agents', '8', '--tasks', String(Math.max(20_000, Math.round(200_000 * ctx.scale)))]);
  for (const [name, s, baseline] of [
    ['cli.run_tasks_2k', small, undefined],
    ['cli.run_tasks_200k', big, 'cli.run_tasks_2k'],
  ] as const) {
    ctx.log(`${name}: ${s.completed}/${s.tasks} in ${s.duration_ms} ms, latency p50 ${s.latency_ms.p50} p99 ${s.latency_ms.p99} max ${s.latency_ms.max} ms`);
    ctx.report({ name, value: s.tasks_per_s, unit: 'tasks/s', ...(baseline ? { baseline } : {}) });
    ctx.report({ name: `${name}_p99`, value: s.latency_ms.p99!, unit: 'ms' });
  }
}

/**
 * `BENCH_CLI_ONLY=run_8x5000,scaleout_nats` runs only the named parts (`run_8x5000`, `run_tasks`,
 * `scaleout_redis`, `scaleout_postgres`, `scaleout_nats`); unset, all of them.
 */
function selected(part: string): boolean {
  const only = process.env.BENCH_CLI_ONLY;
  return !only || only.split(',').includes(part);
}

export default async function cliBench(ctx: BenchContext): Promise<void> {
  const tasks = Math.max(500, Math.round(5000 * ctx.scale));
  if (selected('run_8x5000')) {
    const summary = runSummary(['--agents', '8', '--tasks', String(tasks)]);
    ctx.log(`completed ${summary.completed}/${summary.tasks} in ${summary.duration_ms} ms, p50 ${summary.latency_ms.p50} ms`);
    ctx.report({ name: 'cli.run_8x5000', value: summary.tasks_per_s, unit: 'tasks/s' });
  }
  if (selected('run_tasks')) runTasks(ctx);
  if (selected('scaleout_redis')) await scaleOut(ctx, 'redis', REDIS, tasks);
  if (selected('scaleout_postgres')) await scaleOut(ctx, 'postgres', process.env.CONVERGE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test', tasks);
  if (selected('scaleout_nats')) await scaleOut(ctx, 'nats', NATS, tasks);
}
