// `converge bench`: the engine figures of the user's own setup — claim + report per second on
// the task queue of their --store, beside the bare engine doing the same (a SKIP LOCKED loop
// on PostgreSQL, a Lua check-and-set loop on Redis), like `nats bench` does for NATS. The
// measuring loops are the ones the repository's benchmarks use (bench/harness.ts re-exports them).
import { randomBytes } from 'node:crypto';
import { ConfigError, type TaskQueue } from '@converge/core';
import { StoreTaskQueue } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { importAdapter, natsServers } from './stack.js';
import { rawLuaCas, rawSkipLocked } from './engine-raw.js';

/** Concurrent loops of the task-queue benches (the same number for a queue and its baseline): 4. */
export const QUEUE_WORKERS = 4;

/**
 * Runs `workers` loops of `cycle` for `ms` and returns cycles per second; a cycle returning
 * false ends its loop (nothing left to claim).
 */
export async function cyclesPerSecond(ms: number, cycle: () => Promise<boolean>, workers = QUEUE_WORKERS): Promise<number> {
  let stop = false;
  let n = 0;
  const t0 = performance.now();
  const timer = setTimeout(() => (stop = true), ms);
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stop && (await cycle())) n++;
    }),
  );
  clearTimeout(timer);
  return n / ((performance.now() - t0) / 1000);
}

/** The part of a `TaskQueue` the claim + report bench drives (`drop` removes what it wrote). */
export interface BenchQueue {
  start(): Promise<void>;
  stop(): Promise<void>;
  drop(): Promise<void>;
  submit(task: { id: string; objective: string; poolId: string }): Promise<unknown>;
  claim(request: { agentId: string; poolId: string }): Promise<readonly { lease: unknown }[]>;
  report(lease: never, result: unknown): Promise<unknown>;
}

/**
 * Submits `tasks` tasks to pool `p` (64 at a time), then measures claim + report cycles per
 * second for `ms` with `QUEUE_WORKERS` workers; drops and stops the queue afterwards.
 */
export async function queueClaimReport(q: BenchQueue, tasks: number, ms: number): Promise<number> {
  await q.start();
  try {
    for (let i = 0; i < tasks; i += 64) {
      await Promise.all(Array.from({ length: Math.min(64, tasks - i) }, (_, j) => q.submit({ id: `t${i + j}`, objective: 'bench', poolId: 'p' })));
    }
    return await cyclesPerSecond(ms, async () => {
      const [c] = await q.claim({ agentId: 'w', poolId: 'p' });
      if (!c) return false;
      await q.report(c.lease as never, 1);
      return true;
    });
  } finally {
    await q.drop().catch(() => undefined);
    await q.stop();
  }
}

/** One figure of `converge bench`. */
export interface EngineFigure {
  name: string;
  value: number;
  unit: string;
  /** The figure this one is measured against (in the same run). */
  baseline?: string;
  /** value / baseline. */
  ratio?: number;
}

/** Options of {@link engineBench}. */
export interface EngineBenchOptions {
  /** `memory`, `postgres://…`, `redis://…`/`rediss://…` or `nats://…`. */
  store: string;
  /** How long each loop runs (ms). */
  ms: number;
  /** Tasks submitted before each loop (more than it can take in `ms`, or the loop ends early). */
  tasks: number;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

/**
 * Measures claim + report per second with {@link QUEUE_WORKERS} loops: the bare engine
 * (`raw.*`, where this command has one) and the engine's own task queue (`queue.*`, with the
 * raw figure as its baseline). Everything runs under fresh names that are dropped afterwards.
 */
export async function engineBench(o: EngineBenchOptions): Promise<EngineFigure[]> {
  const out: EngineFigure[] = [];
  const add = (f: EngineFigure) => {
    out.push(f);
    o.log?.(`${f.name}: ${Math.round(f.value).toLocaleString('en-US')} ${f.unit}`);
  };
  const tag = randomBytes(4).toString('hex');
  if (/^postgres(ql)?:\/\//.test(o.store)) await benchPostgres(o, tag, add);
  else if (/^rediss?:\/\//.test(o.store)) await benchRedis(o, tag, add);
  else if (/^nats:\/\//.test(o.store)) await benchJetStream(o, tag, add);
  else if (o.store === 'memory') add(await queueFigure('queue.store_claim_report', new StoreTaskQueue({ store: new MemoryStore() }), o));
  else throw new ConfigError(`converge bench: --store must be memory, postgres://…, redis://… or nats://… (got ${JSON.stringify(o.store)})`, { key: 'store' });
  const byName = new Map(out.map((f) => [f.name, f]));
  for (const f of out) {
    const base = f.baseline ? byName.get(f.baseline) : undefined;
    if (base && base.value > 0) f.ratio = Number((f.value / base.value).toFixed(3));
  }
  return out;
}

/** Takes one measured figure. */
type AddFigure = (f: EngineFigure) => void;

/** The claim + report figure `name` of queue `q` (measured against `baseline` when given). */
async function queueFigure(name: string, q: DroppableQueue, o: EngineBenchOptions, baseline?: string): Promise<EngineFigure> {
  const value = await queueClaimReport(benchQueue(q), o.tasks, o.ms);
  return { name, value, unit: 'tasks/s', ...(baseline ? { baseline } : {}) };
}

/** PostgreSQL: the bare SKIP LOCKED loop, then `PostgresTaskQueue` against it. */
async function benchPostgres(o: EngineBenchOptions, tag: string, add: AddFigure): Promise<void> {
  add({ name: 'raw.postgres_skip_locked', value: await rawSkipLocked(o.store, o.tasks, o.ms), unit: 'tasks/s' });
  const mod = await importAdapter<typeof import('@converge/store-postgres/task-queue')>('@converge/store-postgres/task-queue', 'store');
  const q = new mod.PostgresTaskQueue({ connectionString: o.store, table: `cvb_tq_${tag}`, maxConnections: QUEUE_WORKERS, defaults: { leaseMs: 30_000 } });
  add(await queueFigure('queue.postgres_claim_report', q, o, 'raw.postgres_skip_locked'));
}

/** Redis: the bare Lua check-and-set loop, then `RedisTaskQueue` against it. */
async function benchRedis(o: EngineBenchOptions, tag: string, add: AddFigure): Promise<void> {
  add({ name: 'raw.redis_lua_cas', value: await rawLuaCas(o.store, o.tasks, o.ms), unit: 'tasks/s' });
  const mod = await importAdapter<typeof import('@converge/store-redis/task-queue')>('@converge/store-redis/task-queue', 'store');
  const q = new mod.RedisTaskQueue({ url: o.store, prefix: `cvb:tq:${tag}:`, defaults: { leaseMs: 30_000 } });
  add(await queueFigure('queue.redis_claim_report', q, o, 'raw.redis_lua_cas'));
}

/** NATS: `JetStreamTaskQueue` (the bare figure is `nats bench`'s). */
async function benchJetStream(o: EngineBenchOptions, tag: string, add: AddFigure): Promise<void> {
  const mod = await importAdapter<typeof import('@converge/transport-nats/task-queue')>('@converge/transport-nats/task-queue', 'store');
  const q = new mod.JetStreamTaskQueue({ servers: natsServers(o.store), name: `cvb${tag}`, defaults: { leaseMs: 30_000 } });
  add(await queueFigure('queue.jetstream_claim_report', q, o));
  o.log?.('the bare JetStream figure: nats bench (fetch + ack on a work-queue stream)');
}

/** A task queue the bench drives, with `drop` where the engine keeps what the bench wrote. */
type DroppableQueue = TaskQueue & { drop?(): Promise<void> };

/** `q` as a {@link BenchQueue} (`drop` does nothing on a queue without one). */
function benchQueue(q: DroppableQueue): BenchQueue {
  return {
    start: () => q.start(),
    stop: () => q.stop(),
    drop: async () => q.drop?.(),
    submit: (t) => q.submit(t),
    claim: (r) => q.claim(r),
    report: (lease, result) => q.report(lease, result as never),
  };
}

/** The figures as an aligned table. */
export function engineTable(figures: readonly EngineFigure[]): string {
  const rows = figures.map((f) => [f.name, Math.round(f.value).toLocaleString('en-US'), f.unit, f.baseline ?? '', f.ratio?.toString() ?? '']);
  const head = ['figure', 'value', 'unit', 'baseline', 'ratio'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    '  ' +
    r
      .map((c, i) => (i === 1 ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
      .join('  ')
      .trimEnd();
  return ['', `converge bench: claim + report per second, ${QUEUE_WORKERS} loops`, line(head), ...rows.map(line), ''].join('\n');
}
