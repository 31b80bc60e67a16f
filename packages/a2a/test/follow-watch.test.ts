// A followed task's transitions come from ONE queue watch per served pool, not from re-reading:
// the re-read intervals are set to a minute here, so a send completes within the test only when
// the watch (or a told change) wakes its follower. A watch that falls behind is restarted and
// every followed task is read again; a queue whose watch throws is read every `pollMs` instead.
import { describe, expect, it } from 'vitest';
import { TaskState } from '@a2a-js/sdk';
import { ClientFactory, type Client } from '@a2a-js/sdk/client';
import { QueueFullError, type TaskQueue, type TaskQueueEvent, type WatchOptions } from '@converge/core';
import { randomBytes } from 'node:crypto';
import { StoreTaskQueue, TASK_KEYS, parseIdKey } from '@converge/coordination';
import { JetStreamTaskQueue } from '@converge/transport-nats/task-queue';
import { createA2AServer, dataPart, userMessage, type A2AServer, type A2AServerLimits } from '@converge/a2a';
import { makePool, serverTestScope, sumOf } from './support/pool.js';

const MINUTE = 60_000;

function send(numbers: number[]) {
  const message = userMessage([dataPart({ numbers })]);
  return { tenant: '', message, configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false }, metadata: {} };
}
type Sent = { id: string; status?: { state: TaskState }; artifacts?: { parts: { content?: unknown }[] }[] };
const resultOf = (r: unknown) => (r as Sent).artifacts?.[0]?.parts[0]?.content;

/** The pool's queue, with `watch` replaced by `watch(n, options)` (n: 1 for the first call) and the calls counted. */
function withWatch(queue: TaskQueue, watch?: (n: number, options: WatchOptions) => AsyncIterable<TaskQueueEvent>) {
  const calls = { watch: 0 };
  const wrapped = new Proxy(queue, {
    get(target, prop) {
      if (prop === 'watch') {
        return (options: WatchOptions) => {
          calls.watch++;
          return watch ? watch(calls.watch, options) : target.watch(options);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as TaskQueue;
  return { queue: wrapped, calls };
}

const scope = serverTestScope<A2AServer>();

async function serve(queue: TaskQueue, limits: A2AServerLimits): Promise<Client> {
  scope.server = await createA2AServer({ queue, pool: scope.pool!.pool, identity: scope.pool!.owner, capabilities: ['sum'], limits });
  return new ClientFactory().createFromUrl(scope.server.url);
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe('A2A follower: the queue watch publishes transitions', () => {
  it('completes sends from the watch alone (re-reads a minute apart), with one watch for the pool whatever the number of followed tasks', async () => {
    scope.pool = await makePool();
    const { queue, calls } = withWatch(scope.pool.queue);
    const client = await serve(queue, { pollMs: MINUTE, resyncMs: MINUTE });
    scope.stops.push(scope.pool.startWorker(sumOf));
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => client.sendMessage(send([n, 100]))));
    expect(results.map((r) => (r as Sent).status?.state)).toEqual(Array(8).fill(TaskState.TASK_STATE_COMPLETED));
    expect(results.map(resultOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ $case: 'data', value: n + 100 })));
    expect(calls.watch).toBe(1);
    const stats = scope.server!.stats();
    expect(stats).toMatchObject({ watching: true, watchRestarts: 0, watchFailures: 0, live: 0 });
    expect(stats.watchEvents).toBeGreaterThanOrEqual(8 * 3); // per task at least: submitted, claimed, completed
  });

  it('restarts a watch that fell behind (QueueFullError) and reads every followed task again: the transition it missed is published', async () => {
    scope.pool = await makePool();
    let fallBehind: () => void = () => {};
    const behind = new Promise<void>((r) => (fallBehind = r));
    const real = scope.pool.queue;
    // The first watch reports nothing (its events are "lost"), then fails as a watch past its buffer does.
    const { queue, calls } = withWatch(real, (n, options) =>
      n === 1
        ? // eslint-disable-next-line require-yield -- a watch that reports nothing, then fails
          (async function* () {
            await behind;
            throw new QueueFullError('watch fell more than 1024 events behind');
          })()
        : real.watch(options),
    );
    const client = await serve(queue, { pollMs: MINUTE, resyncMs: MINUTE });
    const sent = client.sendMessage(send([20, 22]));
    await until(() => scope.server!.stats().live === 1);
    // The work is done while the watch sees nothing.
    const [claimed] = await real.claim({ agentId: scope.pool.workerId, poolId: scope.pool.poolId, capabilities: ['sum'] });
    await real.report(claimed!.lease, sumOf(claimed!.task));
    fallBehind();
    const r = await sent;
    expect((r as Sent).status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(resultOf(r)).toEqual({ $case: 'data', value: 42 });
    expect(calls.watch).toBe(2);
    expect(scope.server!.stats()).toMatchObject({ watching: true, watchRestarts: 1, watchFailures: 0 });
  });

  it('reads followed tasks every pollMs when the queue cannot watch (watch throws), and counts the failure', async () => {
    scope.pool = await makePool();
    const { queue } = withWatch(scope.pool.queue, () => {
      throw new Error('this queue has no watch');
    });
    const client = await serve(queue, { pollMs: 20, resyncMs: MINUTE, watchRetryMs: MINUTE });
    scope.stops.push(scope.pool.startWorker(sumOf));
    const r = await client.sendMessage(send([3, 4]));
    expect(resultOf(r)).toEqual({ $case: 'data', value: 7 });
    const stats = scope.server!.stats();
    expect(stats.watching).toBe(false);
    expect(stats.watchFailures).toBe(1);
  });

  it('publishes a change the queue watch cannot see (another queue instance on the store) when told by notifyTaskChanged', async () => {
    scope.pool = await makePool();
    const client = await serve(scope.pool.queue, { pollMs: MINUTE, resyncMs: MINUTE });
    // The worker's queue is another instance on the same store: the server's queue watch sees none of its writes.
    const other = new StoreTaskQueue({ store: scope.pool.store, pools: scope.pool.pools, pollMs: 20 });
    const unwatch = scope.pool.store.watch(TASK_KEYS.record, (key) => {
      const id = parseIdKey(TASK_KEYS.record, key);
      if (id !== null) scope.server!.notifyTaskChanged(id);
    });
    scope.stops.push(unwatch, () => other.stop());
    const sent = client.sendMessage(send([5, 6]));
    await until(() => scope.server!.stats().live === 1);
    const [claimed] = await other.claim({ agentId: scope.pool.workerId, poolId: scope.pool.poolId, capabilities: ['sum'] });
    await other.report(claimed!.lease, sumOf(claimed!.task));
    expect(resultOf(await sent)).toEqual({ $case: 'data', value: 11 });
  });

  it('hears the transitions another client of a JetStream queue makes (a worker in another process, here another connection) through its one watch', async () => {
    scope.pool = await makePool();
    const name = `a2a${randomBytes(5).toString('hex')}`;
    const servers = process.env.CONVERGE_NATS_URL ?? 'nats://127.0.0.1:4222';
    const serverQueue = new JetStreamTaskQueue({ servers, name });
    const workerQueue = new JetStreamTaskQueue({ servers, name });
    await serverQueue.start();
    await workerQueue.start();
    const { queue, calls } = withWatch(serverQueue);
    scope.stops.push(async () => {
      await serverQueue.drop();
      await serverQueue.stop();
      await workerQueue.stop();
    });
    const client = await serve(queue, { pollMs: MINUTE, resyncMs: MINUTE });
    const stop = new AbortController();
    const loop = (async () => {
      while (!stop.signal.aborted) {
        const claimed = await workerQueue
          .claim({ agentId: scope.pool!.workerId, poolId: scope.pool!.poolId, capabilities: ['sum'], waitMs: 50 }, { signal: stop.signal })
          .catch(() => []);
        for (const { task, lease } of claimed) await workerQueue.report(lease, sumOf(task));
      }
    })();
    scope.stops.push(async () => {
      stop.abort();
      await loop;
    });
    const results = await Promise.all(
      [
        [1, 2],
        [30, 12],
      ].map((n) => client.sendMessage(send(n))),
    );
    expect(results.map(resultOf)).toEqual([
      { $case: 'data', value: 3 },
      { $case: 'data', value: 42 },
    ]);
    expect(calls.watch).toBe(1);
  });
});
