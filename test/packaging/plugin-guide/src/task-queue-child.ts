// The child side of the task-queue suite's SIGKILL test: the same queue, in another process,
// over the directory the parent's FileStore uses. TypeScript, so the child runs under tsx.
import type { TaskQueueDefaults } from '@converge/core';
import { FileStore } from '@converge/extensions/storage';
import { GuideTaskQueue } from './task-queue.js';

/** Called by the suite's child with the options the parent gave. */
export function createTaskQueue(options: { dir: string; defaults: TaskQueueDefaults }): GuideTaskQueue {
  return new GuideTaskQueue({ store: new FileStore({ dir: options.dir }), defaults: options.defaults, ownsStore: true });
}
