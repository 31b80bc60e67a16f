// A real Converge pool for the A2A tests: a MemoryStore, a PoolManager, a StoreTaskQueue over
// both, and a worker loop that claims the pool's tasks through the queue and reports results.
import { Identity, createTopic, type Pool, type QueuedTask, type WireValue } from '@converge/core';
import { PoolManager, StoreTaskQueue } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';

export interface TestPool {
  queue: StoreTaskQueue;
  pools: PoolManager;
  pool: Pool;
  poolId: string;
  owner: Identity;
  /** The store under the queue and the pools. */
  store: MemoryStore;
  /** The fingerprint of the pool member the worker claims as. */
  workerId: string;
  /** Starts a worker that runs `work` on every task it claims; returns its stop function. */
  startWorker(work: (task: QueuedTask) => WireValue | Promise<WireValue>): () => Promise<void>;
}

export async function makePool(poolId = 'a2a-pool'): Promise<TestPool> {
  const store = new MemoryStore();
  const pools = new PoolManager({ store });
  const owner = Identity.generate();
  await pools.createPool({ id: poolId, topics: [createTopic('math')], owner: owner.fingerprint });
  const queue = new StoreTaskQueue({ store, pools, pollMs: 20 });
  await queue.start();
  const worker = Identity.generate();
  await pools.joinPool(worker.fingerprint, poolId);
  return {
    queue, pools, poolId, owner, store, workerId: worker.fingerprint, pool: await pools.getPool(poolId),
    startWorker(work) {
      const stop = new AbortController();
      const loop = (async () => {
        while (!stop.signal.aborted) {
          let claimed;
          try {
            claimed = await queue.claim({ agentId: worker.fingerprint, poolId, capabilities: ['sum'], waitMs: 50 }, { signal: stop.signal });
          } catch {
            return;
          }
          for (const { task, lease } of claimed) {
            try {
              await queue.report(lease, await work(task));
            } catch (err) {
              await queue.fail(lease, String(err)).catch(() => {});
            }
          }
        }
      })();
      return async () => {
        stop.abort();
        await loop;
      };
    },
  };
}

/** The sum of `inputs.numbers` (the CLI workload's task). */
export function sumOf(task: QueuedTask): number {
  const n = (task.inputs.numbers ?? []) as number[];
  return n.reduce((a, b) => a + b, 0);
}

/**
 * The teardown the server tests share: runs `stops` (newest first, emptying it), then closes the
 * server and stops the pool's queue, whichever were made.
 */
export async function tearDown(stops: (() => Promise<void> | void)[], server: { close(): Promise<void> } | undefined, pool: TestPool | undefined): Promise<void> {
  for (const s of stops.splice(0).reverse()) await s();
  await server?.close();
  await pool?.queue.stop();
}
