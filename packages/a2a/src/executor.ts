/**
 * The SDK's `AgentExecutor` for a pool: a `SendMessage` submits a Converge task (the message id,
 * scoped by the caller, is the idempotency key), then follows it in the queue and publishes
 * its A2A states until it is terminal; a `CancelTask` cancels the Converge task.
 */
import { randomUUID } from 'node:crypto';
import { TaskState } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { ConflictError, isTerminalState, NotFoundError, PolicyError } from '@converge/core';
import type { Pool, QueuedTask, TaskConstraints, TaskQueue, WireRecord } from '@converge/core';
import { TaskWatcher, type TaskWaiter, type TaskWatchStats } from './task-watch.js';
import { A2A_INPUT_KEY, a2aStateOf, a2aTaskOf, agentMessage, contextIdOf, inputsOfMessage, resultArtifact, statusTextOf, taskMetadata } from './mapping.js';
import { textOf } from './mapping.js';

/** Default interval at which a followed task is read again while the queue's watch is down or unsupported: 100 ms (while it is live, a transition wakes the follower at once and the re-read is every `DEFAULT_A2A_RESYNC_MS`). */
export const DEFAULT_A2A_POLL_MS = 100;
/** Default most tasks followed at once (live A2A requests); beyond it a send is `rejected`: 1,000. */
export const DEFAULT_A2A_MAX_LIVE_TASKS = 1_000;
/** Longest task objective taken from a message's text, in characters: 1,024. */
export const MAX_OBJECTIVE_LENGTH = 1_024;

/** A refusal of a send before it reaches the queue (throw a `PolicyError` to reject). */
export type AdmitHook = (request: { principal: string; inputs: WireRecord; skill: string | undefined }) => void | Promise<void>;

/** Counters of the executor (with those of its task watch). */
export interface ExecutorStats extends TaskWatchStats {
  /** Sends that submitted a new task. */
  submitted: number;
  /** Sends answered with a task an earlier send (same message id, same caller) created. */
  idempotentReplays: number;
  /** Sends rejected (`TASK_STATE_REJECTED`): admission/policy refusals, a missing pool, too many live tasks. */
  rejected: number;
  /** Tasks followed now. */
  live: number;
  /** Cancels that reached the queue. */
  cancelled: number;
}

/** Options of `PoolExecutor`. */
export interface PoolExecutorOptions {
  queue: TaskQueue;
  pool: Pool;
  /** Capability names a message may ask for by `metadata.skill` (a skill id): it becomes the task's required capability. */
  skills?: readonly string[];
  /** Constraints of every submitted task (e.g. `maxRetries`, `claimTtlMs`). */
  constraints?: TaskConstraints;
  /** Checked before a submit; a `PolicyError` rejects the send. */
  admit?: AdmitHook;
  /** Re-read interval while the queue's watch is down or unsupported (default `DEFAULT_A2A_POLL_MS`). */
  pollMs?: number;
  /** Re-read interval while the queue's watch is live, the safety net (default `DEFAULT_A2A_RESYNC_MS`). */
  resyncMs?: number;
  /** First retry delay of a failed or unsupported queue watch (default `DEFAULT_A2A_WATCH_RETRY_MS`). */
  watchRetryMs?: number;
  maxLiveTasks?: number;
  /** Where watch failures are logged. */
  logger?: { warn(obj: object, msg: string): void };
  /** Told about every rejection (count and log it there). */
  onReject?: (reason: string, detail: string) => void;
  /** Told about every task a send submitted (e.g. to wake the pool's workers at once). */
  onSubmit?: (task: QueuedTask) => void;
}

/** The SDK executor that turns A2A sends into tasks of a Converge pool. */
export class PoolExecutor implements AgentExecutor {
  readonly #o: PoolExecutorOptions;
  readonly #maxLive: number;
  readonly #watch: TaskWatcher;
  readonly #stop = new AbortController();
  readonly #stats: Omit<ExecutorStats, keyof TaskWatchStats> = { submitted: 0, idempotentReplays: 0, rejected: 0, live: 0, cancelled: 0 };

  constructor(options: PoolExecutorOptions) {
    this.#o = options;
    this.#watch = new TaskWatcher({
      queue: options.queue,
      poolId: options.pool.id,
      pollMs: options.pollMs ?? DEFAULT_A2A_POLL_MS,
      resyncMs: options.resyncMs,
      retryMs: options.watchRetryMs,
      logger: options.logger,
    });
    this.#maxLive = options.maxLiveTasks ?? DEFAULT_A2A_MAX_LIVE_TASKS;
  }

  /** A snapshot of the counters. */
  stats(): ExecutorStats {
    return { ...this.#stats, ...this.#watch.stats() };
  }

  /** Tells the followers of `taskId` that it changed (for a feed the queue's `watch` does not see, e.g. another process's writes to a `StoreTaskQueue`'s store). */
  notifyChanged(taskId: string): void {
    this.#watch.wake(taskId);
  }

  /** Stops following every task (their A2A requests end; the Converge tasks go on). */
  stop(): void {
    this.#stop.abort();
    this.#watch.stop();
  }

  /** See `AgentExecutor.execute`. */
  execute = async (ctx: RequestContext, bus: ExecutionEventBus): Promise<void> => {
    const message = ctx.userMessage;
    if (ctx.task) {
      // A follow-up message to a live task: Converge tasks take no further input; report where it is.
      const waiter = this.#watch.subscribe(ctx.task.id);
      try {
        const current = await this.#o.queue.get(ctx.task.id);
        bus.publish(AgentEvent.task(a2aTaskOf(current, ctx.contextId, ctx.task.history)));
        return await this.#follow(current, ctx.contextId, bus, waiter);
      } finally {
        waiter.close();
      }
    }
    const principal = ctx.context.user?.userName ?? '';
    const inputs = inputsOfMessage(message, ctx.contextId);
    // Whose task it is: the task store shows a finished task to this caller only.
    (inputs[A2A_INPUT_KEY] as WireRecord).principal = principal;
    const skillMeta: unknown = message.metadata?.skill;
    const skill = typeof skillMeta === 'string' && this.#o.skills?.includes(skillMeta) ? skillMeta : undefined;
    if (this.#stats.live >= this.#maxLive) return this.#reject(ctx, bus, 'busy', `the server follows ${this.#maxLive} tasks already; retry later`);
    // Registered before the submit, so no transition of the new task can come before its follower.
    const waiter = this.#watch.subscribe(ctx.taskId);
    try {
      return await this.#submitAndFollow(ctx, bus, principal, inputs, skill, waiter);
    } finally {
      waiter.close();
    }
  };

  async #submitAndFollow(
    ctx: RequestContext,
    bus: ExecutionEventBus,
    principal: string,
    inputs: WireRecord,
    skill: string | undefined,
    waiter: TaskWaiter,
  ): Promise<void> {
    const message = ctx.userMessage;
    let task: QueuedTask;
    try {
      await this.#o.admit?.({ principal, inputs, skill });
      const text = textOf(message.parts);
      task = await this.#o.queue.submit(
        {
          id: ctx.taskId,
          objective: text.length > 0 ? text.slice(0, MAX_OBJECTIVE_LENGTH) : 'a2a request',
          poolId: this.#o.pool.id,
          inputs,
          constraints: { ...(this.#o.constraints ?? {}) },
          requiredCapabilities: skill ? [skill] : [],
        },
        // Scoped by the caller: another caller reusing a message id gets its own task, not this one.
        { idempotencyKey: `a2a:${principal}:${message.messageId}` },
      );
    } catch (err) {
      if (PolicyError.is(err)) return this.#reject(ctx, bus, 'policy', err.message);
      if (NotFoundError.is(err)) return this.#reject(ctx, bus, 'no-pool', err.message);
      throw err;
    }
    const contextId = contextIdOf(task, ctx.contextId);
    if (task.id === ctx.taskId) {
      this.#stats.submitted++;
      this.#o.onSubmit?.(task);
      bus.publish(AgentEvent.task(a2aTaskOf(task, contextId, [message])));
      return this.#follow(task, contextId, bus, waiter);
    }
    // An earlier send's task: follow that one, read again at once (it may have moved since it was read).
    this.#stats.idempotentReplays++;
    const replay = this.#watch.subscribe(task.id);
    replay.wake();
    try {
      bus.publish(AgentEvent.task(a2aTaskOf(task, contextId, [message])));
      return await this.#follow(task, contextId, bus, replay);
    } finally {
      replay.close();
    }
  }

  /** See `AgentExecutor.cancelTask`: cancels the Converge task; the follower publishes `canceled`. */
  cancelTask = async (taskId: string, _bus: ExecutionEventBus): Promise<void> => {
    try {
      await this.#o.queue.cancel(taskId);
      this.#stats.cancelled++;
    } catch (err) {
      // Already terminal: the follower publishes that state and the SDK answers "not cancelable".
      if (!ConflictError.is(err)) throw err;
    }
    this.#watch.wake(taskId);
  };

  #reject(ctx: RequestContext, bus: ExecutionEventBus, reason: string, detail: string): void {
    this.#stats.rejected++;
    this.#o.onReject?.(reason, detail);
    const status = {
      state: TaskState.TASK_STATE_REJECTED,
      message: agentMessage(ctx.taskId, ctx.contextId, detail, randomUUID()),
      timestamp: new Date().toISOString(),
    };
    bus.publish(
      AgentEvent.task({ id: ctx.taskId, contextId: ctx.contextId, status, artifacts: [], history: [ctx.userMessage], metadata: { rejected: reason } }),
    );
    bus.publish(AgentEvent.statusUpdate({ taskId: ctx.taskId, contextId: ctx.contextId, status, metadata: {} }));
  }

  /** Publishes the task's transitions until it is terminal; `waiter` (registered before `first` was read) says when to read it again. */
  async #follow(first: QueuedTask, contextId: string, bus: ExecutionEventBus, waiter: TaskWaiter): Promise<void> {
    this.#stats.live++;
    try {
      let task = first;
      let shown = `${task.state}/${task.attempts}`;
      for (;;) {
        if (isTerminalState(task.state)) return this.#publishFinal(task, contextId, bus);
        if (this.#stop.signal.aborted) return;
        await waiter.wait();
        if (this.#stop.signal.aborted) return;
        task = await this.#o.queue.get(first.id);
        const now = `${task.state}/${task.attempts}`;
        if (now !== shown && !isTerminalState(task.state)) {
          bus.publish(
            AgentEvent.statusUpdate({
              taskId: task.id,
              contextId,
              status: { state: a2aStateOf(task.state, task.attempts), message: undefined, timestamp: new Date(task.updatedAt).toISOString() },
              metadata: taskMetadata(task),
            }),
          );
        }
        shown = now;
      }
    } finally {
      this.#stats.live--;
    }
  }

  #publishFinal(task: QueuedTask, contextId: string, bus: ExecutionEventBus): void {
    if (task.state === 'completed')
      bus.publish(AgentEvent.artifactUpdate({ taskId: task.id, contextId, artifact: resultArtifact(task), append: false, lastChunk: true, metadata: {} }));
    const text = statusTextOf(task);
    bus.publish(
      AgentEvent.statusUpdate({
        taskId: task.id,
        contextId,
        status: {
          state: a2aStateOf(task.state),
          message: text ? agentMessage(task.id, contextId, text, randomUUID()) : undefined,
          timestamp: new Date(task.updatedAt).toISOString(),
        },
        metadata: taskMetadata(task),
      }),
    );
  }
}
