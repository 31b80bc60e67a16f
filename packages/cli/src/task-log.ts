import type { TaskEventSource } from '@converge/coordination';
import type { Logger } from '@converge/observability';

/** What `logTaskStates` listens to (a `TaskManager`). */
export type TaskStateSource = TaskEventSource;

interface TaskLike {
  id: string;
  assignedTo?: string | null;
  attempts?: number;
}

/**
 * Logs every task state change of `tasks` at debug (`task submitted`, `task claimed`,
 * `task completed`, `task failed`, `task dead_lettered`, `task released`, `task cancelled`),
 * with the task id, the holder (named by `nameOf`) and the attempt. Nothing is built when
 * debug is off. Returns the function that stops logging.
 */
export function logTaskStates(tasks: TaskStateSource, logger: Logger, nameOf: (agentId: string) => string = (id) => id.slice(0, 12)): () => void {
  const log = (state: string, task: TaskLike, extra: Record<string, unknown> = {}) => {
    if (!logger.isLevelEnabled('debug')) return;
    logger.debug({ taskId: task.id, state, holder: task.assignedTo ? nameOf(task.assignedTo) : undefined, attempt: task.attempts, ...extra }, `task ${state}`);
  };
  const offs = [
    tasks.on('submitted', (t) => log('submitted', t)),
    tasks.on('claimed', (e) => log('claimed', e.task)),
    tasks.on('completed', (t) => log('completed', t)),
    tasks.on('failed', (e) => log(e.deadLettered ? 'dead_lettered' : 'failed', e.task, { reason: e.reason, retryAt: e.retryAt })),
    tasks.on('released', (t) => log('released', t)),
    tasks.on('cancelled', (t) => log('cancelled', t)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
