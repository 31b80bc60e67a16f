import { StoreTaskQueue } from '@converge/coordination';
import type { Store, TaskQueueDefaults } from '@converge/core';

/**
 * A TaskQueue over the guide's own Store: `StoreTaskQueue` turns any Store that passes the
 * store suite into a queue with leases, fencing, retries, dead letters and watch. Share one
 * store (a MapStore in one process, a FileStore or server store across processes) to share
 * the work.
 */
export function createTaskQueue(store: Store, options: { clock?: () => number; defaults?: TaskQueueDefaults } = {}): StoreTaskQueue {
  return new StoreTaskQueue({ store, clock: options.clock, defaults: options.defaults, pollMs: 20 });
}
