// The store, task manager and pool manager of a runtime scenario, with its pool created.
import { PoolManager, TaskManager } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';

/** What `poolStack` builds: one in-memory store behind a task manager and a pool manager. */
export interface PoolStack {
  store: MemoryStore;
  taskManager: TaskManager;
  poolManager: PoolManager;
}

/** A `MemoryStore` with a `TaskManager` and a `PoolManager` over it, and the pool `poolId` created. */
export async function poolStack(poolId = 'pool-1'): Promise<PoolStack> {
  const store = new MemoryStore();
  const taskManager = new TaskManager({ store });
  const poolManager = new PoolManager({ store });
  await poolManager.createPool({ id: poolId });
  return { store, taskManager, poolManager };
}
