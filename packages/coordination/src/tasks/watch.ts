// Task events as bounded async iterables (`TaskManager.watchPool`): the manager's own
// transitions, fanned out to every open watch. Subscribed to the manager's events only while a
// watch is open, so that a manager nobody watches builds no event payloads.
import { TaskEventChannel, type TaskQueueEvent, type WatchOptions } from '@converge/core';
import type { TypedEmitter } from '../common.js';
import type { TaskManagerEvents } from './options.js';
import type { TaskRecord } from './records.js';

/** The event a watch reports for a record after one of its transitions. */
export function taskEventOf(rec: TaskRecord): TaskQueueEvent {
  return { taskId: rec.id, poolId: rec.poolId ?? '', state: rec.state, attempt: rec.attempts };
}

/** The open watches of one TaskManager. */
export class TaskWatchers {
  readonly #events: TypedEmitter<TaskManagerEvents>;
  readonly #channels = new Set<TaskEventChannel>();
  #unsubscribe: (() => void)[] = [];

  constructor(events: TypedEmitter<TaskManagerEvents>) {
    this.#events = events;
  }

  /**
   * A bounded iterable of the transitions this manager makes (`options.poolId`: of that pool
   * only). A consumer more than `bufferSize` events behind gets `QueueFullError`; `signal`
   * ends the iteration.
   */
  open(options: WatchOptions): AsyncIterable<TaskQueueEvent> {
    const channel: TaskEventChannel = new TaskEventChannel(options, () => this.#closed(channel));
    // An already aborted signal closes the channel in its constructor: nothing to keep then.
    if (options.signal?.aborted) return channel;
    this.#channels.add(channel);
    if (this.#channels.size === 1) this.#subscribe();
    return channel;
  }

  /** Ends every open watch (after its buffered events). */
  closeAll(): void {
    for (const c of [...this.#channels]) c.close();
  }

  #closed(channel: TaskEventChannel): void {
    if (!this.#channels.delete(channel) || this.#channels.size > 0) return;
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  #subscribe(): void {
    const push = (rec: TaskRecord): void => {
      const e = taskEventOf(rec);
      for (const c of this.#channels) c.push(e);
    };
    const m = this.#events;
    this.#unsubscribe = [
      m.on('submitted', push),
      m.on('claimed', ({ task }) => push(task)),
      m.on('started', push),
      m.on('completed', push),
      m.on('failed', ({ task }) => push(task)),
      m.on('released', push),
      m.on('cancelled', push),
    ];
  }
}
