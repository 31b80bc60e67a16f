/**
 * The SDK `TaskStore` of a served pool: A2A tasks per (tenant, principal), bounded. Past
 * `maxTasks` the oldest terminal tasks are evicted; a task not held (evicted, or sent before a
 * restart) but finished in the queue is rebuilt from the Converge task, for its own caller.
 */
import { TaskState, type ListTasksRequest, type ListTasksResponse, type Task as A2ATask } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import { NotFoundError, isTerminalState, type TaskQueue } from '@converge/core';
import { A2A_INPUT_KEY, a2aTaskOf, isTerminalA2AState } from './mapping.js';

/** Default most A2A tasks held by a server's task store: 10,000. */
export const DEFAULT_A2A_MAX_STORED_TASKS = 10_000;
/** Default page size of `ListTasks`: 50 (the SDK's; at most 100, which the SDK enforces). */
export const DEFAULT_A2A_LIST_PAGE_SIZE = 50;

/** The caller scope of a request: tenant and principal. */
function scopeOf(context: ServerCallContext): string {
  return `${context.tenant ?? ''}\u0000${context.user?.userName ?? ''}`;
}

function pageToken(t: A2ATask): string {
  return Buffer.from(JSON.stringify([t.status?.timestamp ?? '', t.id])).toString('base64url');
}

/** A bounded `TaskStore` with a fallback to the Converge queue for finished tasks. */
export class PoolTaskStore implements TaskStore {
  readonly #queue: TaskQueue;
  readonly #max: number;
  // Key: scope + id; Map order is save order (a save moves the task to the end).
  readonly #tasks = new Map<string, { scope: string; task: A2ATask }>();
  #evicted = 0;

  constructor(queue: TaskQueue, maxTasks = DEFAULT_A2A_MAX_STORED_TASKS) {
    this.#queue = queue;
    this.#max = maxTasks;
  }

  /** Tasks held now. */
  get size(): number {
    return this.#tasks.size;
  }

  /** Tasks evicted so far to stay within `maxTasks`. */
  get evicted(): number {
    return this.#evicted;
  }

  /** See `TaskStore.save`. */
  async save(task: A2ATask, context: ServerCallContext): Promise<void> {
    const scope = scopeOf(context);
    const key = `${scope}\u0000${task.id}`;
    this.#tasks.delete(key);
    this.#tasks.set(key, { scope, task: structuredClone(task) });
    if (this.#tasks.size <= this.#max) return;
    // Evict the oldest terminal task; with none (the bound is below the live tasks), the oldest.
    let victim: string | undefined;
    for (const [k, v] of this.#tasks) {
      if (isTerminalA2AState(v.task.status?.state)) {
        victim = k;
        break;
      }
    }
    this.#tasks.delete(victim ?? this.#tasks.keys().next().value!);
    this.#evicted++;
  }

  /** See `TaskStore.load`. */
  async load(taskId: string, context: ServerCallContext): Promise<A2ATask | undefined> {
    const hit = this.#tasks.get(`${scopeOf(context)}\u0000${taskId}`);
    if (hit) return structuredClone(hit.task);
    let queued;
    try {
      queued = await this.#queue.get(taskId);
    } catch (err) {
      if (NotFoundError.is(err)) return undefined;
      throw err;
    }
    const a2a = queued.inputs[A2A_INPUT_KEY] as { principal?: unknown; contextId?: unknown } | undefined;
    // Only a finished task sent through A2A by this caller (a live one needs its follower).
    if (!a2a || a2a.principal !== (context.user?.userName ?? '') || !isTerminalState(queued.state)) return undefined;
    return a2aTaskOf(queued, typeof a2a.contextId === 'string' ? a2a.contextId : '');
  }

  /** See `TaskStore.list`: the caller's held tasks, newest status first, filtered and paged. */
  async list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    const scope = scopeOf(context);
    const pageSize = params.pageSize ?? DEFAULT_A2A_LIST_PAGE_SIZE;
    const after = params.statusTimestampAfter ? new Date(params.statusTimestampAfter).getTime() : undefined;
    let tasks = [...this.#tasks.values()].filter((v) => v.scope === scope).map((v) => v.task);
    if (params.contextId) tasks = tasks.filter((t) => t.contextId === params.contextId);
    if (params.status !== undefined && params.status !== TaskState.TASK_STATE_UNSPECIFIED) tasks = tasks.filter((t) => t.status?.state === params.status);
    if (after !== undefined) tasks = tasks.filter((t) => t.status?.timestamp !== undefined && new Date(t.status.timestamp).getTime() > after);
    tasks.sort((a, b) => (b.status?.timestamp ?? '').localeCompare(a.status?.timestamp ?? '') || b.id.localeCompare(a.id));
    const totalSize = tasks.length;
    if (params.pageToken) {
      const i = tasks.findIndex((t) => pageToken(t) === params.pageToken);
      tasks = i === -1 ? [] : tasks.slice(i + 1);
    }
    const page = tasks.slice(0, pageSize).map((t) => {
      const copy = structuredClone(t);
      if (!params.includeArtifacts) copy.artifacts = [];
      return copy;
    });
    const nextPageToken = page.length > 0 && tasks.length > page.length ? pageToken(page[page.length - 1]!) : '';
    return { tasks: page, nextPageToken, pageSize, totalSize };
  }
}
