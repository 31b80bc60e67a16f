// A real Converge pool for the A2A tests: a MemoryStore, a PoolManager, a StoreTaskQueue over
// both, and a worker loop that claims the pool's tasks through the queue and reports results.
import { afterEach } from 'vitest';
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
    queue,
    pools,
    poolId,
    owner,
    store,
    workerId: worker.fingerprint,
    pool: await pools.getPool(poolId),
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

/** What one server test made, torn down after it by `serverTestScope()`. */
export interface ServerTestScope<S extends { close(): Promise<void> }> {
  /** The server under test, if the test made one. */
  server: S | undefined;
  /** The pool under test, if the test made one. */
  pool: TestPool | undefined;
  /** More teardown steps (workers, hooks), run newest first. */
  readonly stops: (() => Promise<void> | void)[];
}

/**
 * The teardown the server tests share: registers an `afterEach` that runs `stops` (newest first,
 * emptying it), then closes the server and stops the pool's queue, whichever were made, and forgets both.
 */
export function serverTestScope<S extends { close(): Promise<void> }>(): ServerTestScope<S> {
  const scope: ServerTestScope<S> = { server: undefined, pool: undefined, stops: [] };
  afterEach(async () => {
    for (const s of scope.stops.splice(0).reverse()) await s();
    await scope.server?.close();
    await scope.pool?.queue.stop();
    scope.server = undefined;
    scope.pool = undefined;
  });
  return scope;
}
