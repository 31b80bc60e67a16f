// The child side of the task-queue suite's SIGKILL test: the same queue, in another process,
// over the directory the parent's FileStore uses. Plain JavaScript, so plain Node runs it.
import { StoreTaskQueue } from '@converge/coordination';
import { FileStore } from '@converge/extensions/storage';

/** Called by the suite's child with the options the parent gave. */
export function createTaskQueue({ dir, defaults }) {
  return new StoreTaskQueue({ store: new FileStore({ dir }), defaults, ownsStore: true });
}
