// The in-process fan-out of a task queue whose engine has a change feed (PostgreSQL
// LISTEN/NOTIFY, Redis PUBLISH): the same logic for every such engine, so it lives here once.
import { TaskEventChannel, waitForWake, type TaskQueueEvent, type WatchOptions } from './task-queue.js';
import { TASK_STATES, type TaskState } from './task.js';

const STATES: ReadonlySet<string> = new Set<string>(TASK_STATES);

/**
 * Parses the event payload the PostgreSQL NOTIFY and Redis PUBLISH feeds carry: the JSON array
 * `[state, attempt, poolId, taskId]`. Anything else (not JSON, another shape, an unknown state,
 * an attempt that is not a safe integer) is `null`.
 */
export function parseTaskEvent(payload: string): TaskQueueEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length !== 4) return null;
  const [state, attempt, poolId, taskId] = v as unknown[];
  if (typeof taskId !== 'string' || typeof poolId !== 'string' || typeof state !== 'string' || !STATES.has(state)) return null;
  if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt)) return null;
  return { taskId, poolId, state: state as TaskState, attempt };
}

/** The event a wake-up of every waiter carries (no task: "look again"). */
const LOOK_AGAIN: TaskQueueEvent = { taskId: '', poolId: '', state: 'pending', attempt: 0 };

/**
 * Delivers a queue's feed to this instance's `watch` channels and waiting claims. A payload
 * that is not an event is counted in `badEvents` (never delivered, never silently lost); one
 * that arrives while nobody is listening is not even parsed.
 */
export class TaskEventFeed {
  readonly #channels = new Set<TaskEventChannel>();
  readonly #wakers = new Set<(e: TaskQueueEvent) => void>();
  #badEvents = 0;

  /** Feed payloads that did not parse as an event (ignored, counted). */
  get badEvents(): number {
    return this.#badEvents;
  }

  /** A bounded `watch` channel fed from now on (see `TaskEventChannel`). */
  watch(options: WatchOptions): TaskEventChannel {
    const channel: TaskEventChannel = new TaskEventChannel(options, () => this.#channels.delete(channel));
    this.#channels.add(channel);
    return channel;
  }

  /** Hands a raw feed payload to every channel and waiter, parsed by `parse` (default `parseTaskEvent`; `null`: not an event). */
  deliver(payload: string, parse: (payload: string) => TaskQueueEvent | null = parseTaskEvent): void {
    // Nobody waiting or watching in this process: nothing to parse it for.
    if (this.#wakers.size === 0 && this.#channels.size === 0) return;
    const e = parse(payload);
    if (!e) {
      this.#badEvents++;
      return;
    }
    for (const w of [...this.#wakers]) w(e);
    for (const ch of [...this.#channels]) ch.push(e);
  }

  /**
   * Waits up to `ms` (or `signal`) for a task of `poolId` to enter pending, or for `wakeAll`:
   * the claim-wait. Resolves `true` when woken, `false` on time-out; `AbortError` on abort.
   */
  waitForPending(ms: number, poolId: string, signal?: AbortSignal): Promise<boolean> {
    return waitForWake(
      ms,
      (wake) => {
        const waker = (e: TaskQueueEvent): void => {
          if ((e.poolId === poolId || e.poolId === '') && e.state === 'pending') wake();
        };
        this.#wakers.add(waker);
        return () => this.#wakers.delete(waker);
      },
      signal,
    );
  }

  /** Wakes every waiting claim to look again (after a feed reconnect, when events may have been missed, or at stop). */
  wakeAll(): void {
    for (const w of [...this.#wakers]) w(LOOK_AGAIN);
  }

  /** Ends every `watch` channel (after its buffered events). */
  closeAll(): void {
    for (const ch of [...this.#channels]) ch.close();
  }
}
