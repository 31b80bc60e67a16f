/**
 * `converge run --a2a PORT`: serves the run's pool as an A2A agent (`@converge/a2a`) on
 * 127.0.0.1, its card signed by the coordinator's key, sends submitted through a
 * `StoreTaskQueue` on the run's store. The built-in workers sum numbers, so a send must carry
 * a data part `{ "numbers": [...] }`; anything else is rejected (`TASK_STATE_REJECTED`)
 * instead of reaching a worker that cannot do it. `--a2a-token` (or `CONVERGE_A2A_TOKEN`)
 * requires it as a bearer token.
 */
import { PolicyError, type Identity, type Store, type Task, type TaskQueueEvent } from '@converge/core';
import { PoolManager, StoreTaskQueue } from '@converge/coordination';
import { A2A_INPUT_KEY, createA2AServer, type A2AServer, type A2AServerLimits } from '@converge/a2a';

/** What the A2A endpoint of a run needs. */
export interface A2AServeOptions {
  port: number;
  /** Requires this bearer token when set. */
  token?: string;
  store: Store;
  pools: PoolManager;
  poolId: string;
  /** Signs the card (the pool owner's key: the coordinator's). */
  identity: Identity;
  /** Whether the run's workers accept a task (the built-in ones: numbers to sum). */
  accepts?: (inputs: Record<string, unknown>) => boolean;
  /**
   * The task manager the run's workers report through (its `watchPool`): each of its
   * transitions in the pool tells the server at once, instead of the server's periodic re-read.
   */
  tasks?: { watchPool(poolId: string, options: { signal: AbortSignal }): AsyncIterable<TaskQueueEvent> };
  /** Called when a send submitted a task (wake the workers). */
  onSubmit?: () => void;
  stderr: NodeJS.WritableStream;
  /** The A2A server's limits (default: its defaults). */
  limits?: A2AServerLimits;
  logger?: { warn(obj: object, msg: string): void };
}

/** A running A2A endpoint of a run. */
export interface A2AEndpoint {
  server: A2AServer;
  close(): Promise<void>;
}

/** Whether a task came in through A2A (the workload's own bookkeeping leaves these out). */
export function isA2ATask(task: Task): boolean {
  return task.inputs[A2A_INPUT_KEY] !== undefined;
}

/** The built-in worker's input: `numbers`, an array of numbers. */
export function sumInputs(inputs: Record<string, unknown>): boolean {
  return Array.isArray(inputs.numbers) && inputs.numbers.every((n) => typeof n === 'number' && Number.isFinite(n));
}

/** Starts the A2A endpoint and prints `a2a: http://127.0.0.1:PORT/` on stderr once it is ready. */
export async function serveA2A(options: A2AServeOptions): Promise<A2AEndpoint> {
  const queue = new StoreTaskQueue({ store: options.store, pools: options.pools });
  await queue.start();
  const accepts = options.accepts ?? sumInputs;
  const server = await createA2AServer({
    port: options.port,
    host: '127.0.0.1',
    queue,
    pool: await options.pools.getPool(options.poolId),
    identity: options.identity,
    capabilities: [{ name: 'sum', version: '1.0', description: 'sums a data part {"numbers": [...]}', constraints: {}, costs: {} }],
    ...(options.token ? { auth: { bearerTokens: { [options.token]: 'cli' } } } : {}),
    admit: ({ inputs }) => {
      if (!accepts(inputs)) throw new PolicyError('this pool sums numbers: send a data part {"numbers": [1, 2, 3]}');
    },
    onSubmit: options.onSubmit,
    ...(options.limits ? { limits: options.limits } : {}),
    logger: options.logger,
  });
  // The run's workers write through their own task manager, which this queue's watch does not
  // see: that manager's transitions tell the server at once instead.
  const relay = options.tasks ? relayTaskChanges(options.tasks, options.poolId, (id) => server.notifyTaskChanged(id), options.logger) : undefined;
  options.stderr.write(`a2a: ${server.url}\n`);
  return {
    server,
    close: async () => {
      await relay?.stop();
      await server.close();
      await queue.stop();
    },
  };
}

/**
 * Calls `changed` with the id of every task of `poolId` that `tasks` moves, until `stop()`; a
 * watch that falls behind is restarted (the server's re-reads cover the gap), one that fails
 * otherwise is logged and ends the relay.
 */
function relayTaskChanges(
  tasks: NonNullable<A2AServeOptions['tasks']>,
  poolId: string,
  changed: (taskId: string) => void,
  logger: A2AServeOptions['logger'],
): { stop(): Promise<void> } {
  const watching = new AbortController();
  const { signal } = watching;
  const relay = async () => {
    while (!signal.aborted) {
      try {
        for await (const e of tasks.watchPool(poolId, { signal })) changed(e.taskId);
      } catch (err) {
        if ((err as Error | undefined)?.name !== 'QueueFullError') throw err;
        logger?.warn({ err }, 'a2a: the task watch fell behind; watching again');
      }
    }
  };
  const running = relay().catch((err: unknown) => logger?.warn({ err }, 'a2a: the task watch failed'));
  return {
    stop: async () => {
      watching.abort();
      await running;
    },
  };
}
