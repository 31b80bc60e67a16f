// The task queue of the split roles: the engine's own queue for the store the user named
// (`--store postgres://` → PostgresTaskQueue, `redis://` → RedisTaskQueue, `nats://` →
// JetStreamTaskQueue), the portable StoreTaskQueue over any other store. Coordinator and
// workers only ever go through core's TaskQueue contract.
import {
  ConflictError,
  ValidationError,
  type Agent,
  type ClaimedTask,
  type Decision,
  type FailTask,
  type ReportTask,
  type Store,
  type Task,
  type TaskInit,
  type TaskQueue,
  type WireValue,
} from '@converge/core';
import { StoreTaskQueue } from '@converge/coordination';
import type { Logger } from '@converge/observability';
import { StandardExecutor, type Executor, type TaskManagerPort } from '@converge/runtime';
import { SUBMIT_TASKS } from '../workload/coordinator.js';
import { EngineUnavailableError, importAdapter } from '../stack.js';
import type { QueueMetrics } from './queue-metrics.js';

/** A started task queue with a label for the summary (no credentials). */
export interface OpenedQueue {
  queue: TaskQueue;
  /** `postgres-queue:<table>`, `redis-queue:<prefix>`, `jetstream-queue:<name>` or `store-queue` (the portable one). */
  label: string;
  /** Whether this is an engine's own queue (not the portable StoreTaskQueue). */
  native: boolean;
  close(): Promise<void>;
}

/** Where a namespace's queue lives on each engine: PostgreSQL table, Redis prefix, JetStream queue name. */
export function queueNames(namespace: string): { table: string; redisPrefix: string; jetstreamName: string } {
  // A PostgreSQL queue table is lower case, at most 48 characters; a JetStream name at most 32.
  return { table: `cq_${namespace.toLowerCase()}`, redisPrefix: `converge:${namespace}:tq:`, jetstreamName: namespace.slice(0, 32) };
}

/**
 * What the PostgreSQL and Redis queues of the split roles announce: wake-ups and outcomes, the
 * two things their processes wait for (workers for pending tasks, the coordinator for terminal
 * ones). Claims are not announced: on PostgreSQL every notifying commit takes one global lock
 * (the commits would queue behind each other), on Redis every process would parse each one.
 */
const QUEUE_NOTIFY = 'outcomes';

/**
 * Opens the queue for `--store spec` (`store` is the opened `Store` of the same value, used by
 * the portable queue; `leaseMs` the default lease). `EngineUnavailableError` when the engine
 * cannot be reached.
 */
export async function openTaskQueue(spec: string, namespace: string, store: Store, leaseMs: number): Promise<OpenedQueue> {
  const defaults = { leaseMs };
  const names = queueNames(namespace);
  let queue: TaskQueue;
  let label: string;
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const mod = await importAdapter<typeof import('@converge/store-postgres/task-queue')>('@converge/store-postgres/task-queue', 'store');
    queue = new mod.PostgresTaskQueue({ connectionString: spec, table: names.table, defaults, notify: QUEUE_NOTIFY }) as TaskQueue;
    label = `postgres-queue:${names.table}`;
  } else if (/^rediss?:\/\//.test(spec)) {
    const mod = await importAdapter<typeof import('@converge/store-redis/task-queue')>('@converge/store-redis/task-queue', 'store');
    queue = new mod.RedisTaskQueue({ url: spec, prefix: names.redisPrefix, defaults, clientName: 'converge-cli', notify: QUEUE_NOTIFY }) as TaskQueue;
    label = `redis-queue:${names.redisPrefix}`;
  } else if (/^nats:\/\//.test(spec)) {
    const mod = await importAdapter<typeof import('@converge/transport-nats/task-queue')>('@converge/transport-nats/task-queue', 'store');
    const servers = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    // The library's ack wait follows the lease (twice it, at least 5 s): a SIGKILLed worker's
    // still-open pull requests hold their messages no longer than that. A pool consumer made
    // with other settings (an earlier version's 120 s, another --claim-ttl-ms) is updated.
    queue = new mod.JetStreamTaskQueue({ servers, name: names.jetstreamName, defaults, onConsumerMismatch: 'update' }) as TaskQueue;
    label = `jetstream-queue:${names.jetstreamName}`;
  } else {
    const q = new StoreTaskQueue({ store, defaults });
    await q.start();
    return { queue: q, label: 'store-queue', native: false, close: () => q.stop() };
  }
  try {
    await queue.start();
  } catch (err) {
    await queue.stop().catch(() => {});
    throw new EngineUnavailableError(`cannot open the task queue on ${label.split(':')[0]} (store): ${(err as Error).message}`, { key: 'store', cause: err });
  }
  return { queue, label, native: true, close: () => queue.stop() };
}

/**
 * The runtime's task-manager port over a queue, for agents that submit but do not claim
 * through decisions (the coordinator; the workers, whose claims go through {@link runClaimLoop}):
 * `SubmitTask` → `queue.submit` (idempotent by task id, so a restarted coordinator's resubmits
 * return the first task), the runtime's sweep → `queue.expire`. Claim, report, fail and extend
 * decisions are refused (`ValidationError`): with a queue they are the claim loop's.
 *
 * Share one port among the runtimes of a process: its sweep runs one `expire` at a time (a
 * runtime asking while one runs joins it) and none within `sweepGapMs` of the last one's end,
 * so N runtimes cost the engine one sweep per interval, not N (on JetStream a sweep reads
 * every held message).
 */
export function queuePort(queue: TaskQueue, onSubmitted?: (task: Task) => void, options: QueuePortOptions = {}): TaskManagerPort {
  const { meters, sweepGapMs = 0 } = options;
  const refused = (what: string) => () =>
    Promise.reject(new ValidationError(`${what} decisions are not taken with a task queue: its claim loop claims and reports`));
  let sweeping: Promise<unknown> | undefined;
  let sweptAt = Number.NEGATIVE_INFINITY;
  const sweep = (): Promise<unknown> => {
    if (sweeping) return sweeping;
    if (Date.now() - sweptAt < sweepGapMs) return Promise.resolve([]);
    sweeping = queue.expire().finally(() => {
      sweeping = undefined;
      sweptAt = Date.now();
    });
    return sweeping;
  };
  return {
    submit: async (task) => {
      const id = (task as { id?: string }).id;
      const t = await queue.submit(task as TaskInit, id ? { idempotencyKey: id } : {});
      meters?.submitted();
      onSubmitted?.(t);
      return t;
    },
    claim: refused('ClaimTask'),
    extendClaim: refused('extend'),
    report: refused('ReportTask'),
    fail: refused('FailTask'),
    cancel: (taskId) => queue.cancel(taskId),
    releaseExpiredClaims: sweep,
    listPendingTasksForAgent: async () => [],
  };
}

/** Options of {@link queuePort}. */
export interface QueuePortOptions {
  /** Counts the submits (see `QueueMetrics`). */
  meters?: QueueMetrics;
  /** Least time between the end of one sweep (`expire`) and the start of the next, ms (default 0). */
  sweepGapMs?: number;
}

/**
 * Submits one `SubmitTasks` decision runs at once: 256 (a queue that coalesces concurrent
 * submits, as PostgreSQL's, sends them as a few statements; the window bounds them anyway).
 */
export const SUBMIT_CONCURRENCY = 256;

/**
 * Registers the `SubmitTasks` decision (the coordinator's batch submit, see
 * `CoordinatorOptions.batchSubmit`) on `executor`: its tasks go to `port.submit` with up to
 * `SUBMIT_CONCURRENCY` in flight. A task whose submit fails is logged (`warn`) and the
 * decision fails with an `AggregateError` of them (the executor counts and logs it).
 */
export function registerSubmitTasks(executor: Executor, port: TaskManagerPort, logger: Logger): void {
  if (!(executor instanceof StandardExecutor)) throw new ValidationError("SubmitTasks needs the runtime's StandardExecutor");
  executor.register(SUBMIT_TASKS, async (d) => {
    const tasks = (d as { tasks?: unknown }).tasks;
    if (!Array.isArray(tasks)) throw new ValidationError('SubmitTasks needs a tasks array');
    const errors: unknown[] = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < tasks.length) {
        const task = tasks[next++] as TaskInit;
        try {
          await port.submit(task);
        } catch (err) {
          errors.push(err);
          logger.warn({ err, taskId: (task as { id?: string }).id }, 'submit failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SUBMIT_CONCURRENCY, tasks.length) }, lane));
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} of ${tasks.length} submits failed`);
    return tasks.length;
  });
}

/** Counters of one worker process's claim loops. */
export interface ClaimLoopStats {
  /** Tasks claimed. */
  claims: number;
  /** Reports the queue accepted. */
  completed: number;
  /** Reports refused because the lease was no longer current (it expired and another took the task). */
  conflicts: number;
  /** Attempts the agent failed (it threw, failed the task, or did not take it). */
  failed: number;
  /** Claim calls that failed (the engine was unreachable, say); the loop backs off and goes on. */
  claimErrors: number;
}

/** A fresh {@link ClaimLoopStats}. */
export function newClaimLoopStats(): ClaimLoopStats {
  return { claims: 0, completed: 0, conflicts: 0, failed: 0, claimErrors: 0 };
}

/** Options of {@link runClaimLoop}. */
export interface ClaimLoopOptions {
  poolId: string;
  /** Most tasks one claim takes (the worker's claims per turn). */
  maxClaims: number;
  /** How long one claim waits for work (ms). */
  waitMs: number;
  /** Ends the loop (a claim in flight is aborted; reports in flight finish). */
  signal: AbortSignal;
  stats: ClaimLoopStats;
  logger: Logger;
  /** Pause after a short batch (default `CLAIM_PACE_MS`). */
  paceMs?: number;
  /** Claim, report and latency metrics (see `QueueMetrics`). */
  meters?: QueueMetrics;
}

/** Pause after a claim that took fewer than half of `maxClaims` (ms): 20. */
export const CLAIM_PACE_MS = 20;
/** Back-off after a failed claim call (ms). */
const CLAIM_ERROR_BACKOFF_MS = 250;

/**
 * One agent's work loop on a queue: claim up to `maxClaims` tasks of the pool (waiting for
 * work), execute each (`agent.execute(task)` when the agent has it, as `WorkerAgent`; else its
 * `decide([], [task])`'s `ReportTask` or `FailTask` for the task), report the results (fenced by
 * the lease), until `signal` aborts. The next claim goes out while a batch's reports are in
 * flight (at most one batch reporting at a time): a round trip of the engine per batch, not two.
 * With a native queue an auction's reservation is not held back from other workers: whoever
 * claims the task first runs it (still exactly once).
 */
export async function runClaimLoop(queue: TaskQueue, agent: Agent, options: ClaimLoopOptions): Promise<void> {
  const { signal } = options;
  const capabilities = agent.capabilities.names();
  const reporting = new Set<Promise<void>>();
  while (!signal.aborted) {
    const claimed = await claimBatch(queue, agent.id, capabilities, options);
    if (claimed === undefined) continue;
    const batch: Promise<void> = Promise.all(claimed.map((c) => runClaimed(queue, agent, c, options))).then(() => void reporting.delete(batch));
    reporting.add(batch);
    while (reporting.size > 1) await Promise.race(reporting);
    // A short batch: let work accumulate a moment before claiming again. Every waiting
    // claimer wakes on every submit, so claiming at once would take the tasks one at a time
    // (one round trip each) and cost the engine a claim per claimer per submit.
    if (claimed.length < options.maxClaims / 2 && !signal.aborted) await pause(options.paceMs ?? CLAIM_PACE_MS, signal);
  }
  await Promise.all(reporting);
}

/** One claim call of the loop; `undefined` when it failed (counted, logged, backed off) or the loop was stopped. */
async function claimBatch(queue: TaskQueue, agentId: string, capabilities: string[], options: ClaimLoopOptions): Promise<ClaimedTask[] | undefined> {
  const { signal, stats } = options;
  try {
    const claimed = await queue.claim({ agentId, poolId: options.poolId, capabilities, max: options.maxClaims, waitMs: options.waitMs }, { signal });
    stats.claims += claimed.length;
    options.meters?.claimed(claimed.length);
    return claimed;
  } catch (err) {
    if (signal.aborted) return undefined;
    stats.claimErrors++;
    options.logger.warn({ err, agentId }, 'task queue claim failed; retrying');
    await pause(CLAIM_ERROR_BACKOFF_MS, signal);
    return undefined;
  }
}

/** Executes one claimed task and reports (or fails) it under its lease; every outcome is counted, none thrown. */
async function runClaimed(queue: TaskQueue, agent: Agent, { task, lease }: ClaimedTask, options: ClaimLoopOptions): Promise<void> {
  const { stats, meters } = options;
  let outcome: { ok: true; result: WireValue } | { ok: false; reason: string };
  try {
    outcome = await executeTask(agent, task);
  } catch (err) {
    outcome = { ok: false, reason: `agent threw: ${(err as Error).message}` };
  }
  try {
    if (outcome.ok) {
      const done = await queue.report(lease, outcome.result);
      stats.completed++;
      meters?.ended('completed', done);
    } else {
      await queue.fail(lease, outcome.reason);
      stats.failed++;
      meters?.ended('failed');
    }
  } catch (err) {
    if (ConflictError.is(err)) {
      stats.conflicts++;
      meters?.ended('refused');
    } else {
      meters?.ended('error');
      options.logger.warn({ err, taskId: task.id }, 'task queue report failed (the lease runs out and the task is redone)');
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

async function executeTask(agent: Agent, task: Task): Promise<{ ok: true; result: WireValue } | { ok: false; reason: string }> {
  const execute = (agent as unknown as { execute?: (t: Task) => WireValue | Promise<WireValue> }).execute;
  if (typeof execute === 'function') return { ok: true, result: await execute.call(agent, task) };
  const decisions: Decision[] = await agent.decide([], [task]);
  for (const d of decisions) {
    if (d.type === 'ReportTask' && d.taskId === task.id) return { ok: true, result: (d as ReportTask).result };
    if (d.type === 'FailTask' && d.taskId === task.id) return { ok: false, reason: (d as FailTask).reason };
  }
  return { ok: false, reason: 'not taken by the agent' };
}
