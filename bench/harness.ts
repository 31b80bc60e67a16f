/**
 * Benchmark harness. A suite (bench/suites/*.ts) default-exports `(ctx) => Promise<void>` and
 * calls `ctx.report` for each figure. Where a figure names a `baseline`, the baseline must be
 * measured in the same run, and the ratio (value / baseline) is computed at the end.
 */

/** One figure. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: string;
  ratio?: number;
}

/** What a suite receives. */
export interface BenchContext {
  /** Records a figure. */
  report(result: Omit<BenchResult, 'ratio'>): void;
  /** Scale factor for durations and counts (BENCH_SCALE, default 1; CI may lower it). */
  scale: number;
  /** Logs progress to stderr (never to stdout, which carries the JSON lines). */
  log(message: string): void;
}

/** A suite module's default export. */
export type BenchSuite = (ctx: BenchContext) => Promise<void>;

/**
 * Runs `fn` (one operation, or `batch` operations per call) repeatedly for about
 * `durationMs` after a warm-up, and returns operations per second.
 */
export async function opsPerSecond(fn: () => unknown, options: { durationMs?: number; warmupMs?: number; batch?: number } = {}): Promise<number> {
  const { durationMs = 1500, warmupMs = 300, batch = 1 } = options;
  const isAsync = fn() instanceof Promise;
  const runFor = async (ms: number): Promise<[number, number]> => {
    let ops = 0;
    const start = process.hrtime.bigint();
    const limit = BigInt(ms) * 1_000_000n;
    let elapsed = 0n;
    while (elapsed < limit) {
      for (let i = 0; i < 64; i++) {
        if (isAsync) await fn();
        else fn();
      }
      ops += 64 * batch;
      elapsed = process.hrtime.bigint() - start;
    }
    return [ops, Number(elapsed) / 1e9];
  };
  await runFor(warmupMs);
  const [ops, seconds] = await runFor(durationMs);
  return ops / seconds;
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

// The claim + report measuring loops are the ones `converge bench` runs (one copy, in the cli).
export { QUEUE_WORKERS, cyclesPerSecond, queueClaimReport, type BenchQueue } from '@converge/cli';
import { randomBytes } from 'node:crypto';
import { queueClaimReport, type BenchQueue } from '@converge/cli';

/** A task-queue suite: the raw baseline on an engine and the `TaskQueue` adapter on the same engine. */
export interface QueueSuite {
  /** The baseline: its figure name and a run returning tasks/s for `tasks` tasks over `ms`. */
  raw: { name: string; run(tasks: number, ms: number): Promise<number> };
  /**
   * The adapter: its figure name and a fresh queue notifying every transition or only wake-ups,
   * on a namespace of its own named with `id` (random hex, new for each queue).
   */
  adapter: { name: string; make(notify: 'all' | 'wake-ups', id: string): BenchQueue };
  /** Tasks submitted at scale 1. */
  tasks: number;
}

/**
 * Runs a `QueueSuite` for 3 s each (times the scale): the baseline, then the adapter notifying
 * every transition (`<adapter>`), then only wake-ups (`<adapter>_wake_only`), both reported
 * against the baseline.
 */
export async function runQueueSuite(ctx: BenchContext, suite: QueueSuite): Promise<void> {
  const ms = Math.round(3_000 * ctx.scale);
  const tasks = Math.round(suite.tasks * ctx.scale);
  ctx.report({ name: suite.raw.name, value: await suite.raw.run(tasks, ms), unit: 'tasks/s' });
  const all = await queueClaimReport(suite.adapter.make('all', randomBytes(4).toString('hex')), tasks, ms);
  ctx.report({ name: suite.adapter.name, value: all, unit: 'tasks/s', baseline: suite.raw.name });
  const wakeOnly = await queueClaimReport(suite.adapter.make('wake-ups', randomBytes(4).toString('hex')), tasks, ms);
  ctx.report({ name: `${suite.adapter.name}_wake_only`, value: wakeOnly, unit: 'tasks/s', baseline: suite.raw.name });
}

/** A suite (a default export of bench/suites/*.ts) that runs `suite` with `runQueueSuite`. */
export function queueSuite(suite: QueueSuite): (ctx: BenchContext) => Promise<void> {
  return (ctx) => runQueueSuite(ctx, suite);
}
