// The Startable contract (as js-libp2p's `startable.ts`): a component with a lifecycle, and
// helpers that start or stop several components in phase order.

/**
 * A component with a lifecycle. `start`/`stop` are required; the `before*`/`after*` hooks are
 * optional and let components that depend on each other order their work: `start(a, b)` runs
 * every `beforeStart`, then every `start`, then every `afterStart`.
 */
export interface Startable {
  /** Runs before `start` of any component of the same `start(...)` call. */
  beforeStart?(): void | Promise<void>;
  /** Acquires resources; the component is usable once it resolves. */
  start(): void | Promise<void>;
  /** Runs after `start` of every component of the same `start(...)` call. */
  afterStart?(): void | Promise<void>;
  /** Runs before `stop` of any component of the same `stop(...)` call. */
  beforeStop?(): void | Promise<void>;
  /** Releases every resource. */
  stop(): void | Promise<void>;
  /** Runs after `stop` of every component of the same `stop(...)` call. */
  afterStop?(): void | Promise<void>;
}

/** Whether `value` has the `start` and `stop` methods of a `Startable`. */
export function isStartable(value: unknown): value is Startable {
  return typeof value === 'object' && value !== null && typeof (value as Startable).start === 'function' && typeof (value as Startable).stop === 'function';
}

type Phase = 'beforeStart' | 'start' | 'afterStart' | 'beforeStop' | 'stop' | 'afterStop';

async function phase(objs: readonly unknown[], name: Phase): Promise<void> {
  await Promise.all(
    objs.filter(isStartable).map(async (o) => {
      await o[name]?.();
    }),
  );
}

/**
 * Starts every `Startable` among `objs` (others are skipped): all `beforeStart`, then all
 * `start`, then all `afterStart`, each phase concurrently. The first failure rejects.
 */
export async function start(...objs: unknown[]): Promise<void> {
  await phase(objs, 'beforeStart');
  await phase(objs, 'start');
  await phase(objs, 'afterStart');
}

/**
 * Stops every `Startable` among `objs` (others are skipped): all `beforeStop`, then all
 * `stop`, then all `afterStop`, each phase concurrently. The first failure rejects.
 */
export async function stop(...objs: unknown[]): Promise<void> {
  await phase(objs, 'beforeStop');
  await phase(objs, 'stop');
  await phase(objs, 'afterStop');
}
