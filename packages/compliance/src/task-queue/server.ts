// The task-queue suite for a queue engine that keeps each queue on a namespace of a server
// (a table, a key prefix): the fixture made from how to name, open and drop a namespace.
import type { TaskQueue, TaskQueueDefaults } from '@converge/core';
import type { ChildQueueFactory, TaskQueueSetupContext } from './fixture.js';
import { taskQueueComplianceTests } from './index.js';

/**
 * How the suite opens a client: with its clock and defaults, polling every `pollMs`; the
 * wake-ups-only client (for the wake-ups test) with `notify: 'wake-ups'` and a `pollMs` of a minute.
 */
export interface ServerQueueClientOptions {
  /** The suite's clock. */
  clock: () => number;
  /** The suite's queue defaults. */
  defaults: Required<TaskQueueDefaults>;
  /** How often the client polls (50 ms; a minute for the wake-ups-only client). */
  pollMs: number;
  /** `'wake-ups'` for the wake-ups-only client; otherwise not set (the engine's default). */
  notify?: 'wake-ups';
}

/** Options of `serverTaskQueueTests`. */
export interface ServerTaskQueueOptions<Q extends TaskQueue & { readonly stats: { readonly badEvents: number } }> {
  /** Suite title, e.g. `'PostgresTaskQueue'`. */
  name: string;
  /** A namespace no other run uses. */
  unique: () => string;
  /** A new client of `namespace` with `options` (its own connections). */
  open: (namespace: string, options: ServerQueueClientOptions) => Q;
  /** Deletes everything on `namespace`. */
  drop: (namespace: string) => Promise<void>;
  /** How a child process opens `namespace` with `defaults`, for the SIGKILL test. */
  child: (namespace: string, defaults: Required<TaskQueueDefaults>) => ChildQueueFactory;
  /** Sends `payload` as is on the event channel of `namespace` (the queue counts it in `stats.badEvents`). */
  publish: (namespace: string, payload: string) => Promise<void>;
}

/**
 * `taskQueueComplianceTests` for a server queue: each fixture is a new namespace, its clients
 * opened with `open` (a normal one polling every 50 ms, and a wake-ups-only one), its event feed
 * reached through `publish`, the children through `child`, and dropped afterwards.
 */
export function serverTaskQueueTests<Q extends TaskQueue & { readonly stats: { readonly badEvents: number } }>(options: ServerTaskQueueOptions<Q>): void {
  taskQueueComplianceTests({
    name: options.name,
    setup: async ({ clock, defaults }: TaskQueueSetupContext) => {
      const ns = options.unique();
      return {
        open: async () => options.open(ns, { clock, defaults, pollMs: 50 }),
        openWakeUpsOnly: async () => options.open(ns, { clock, defaults, notify: 'wake-ups', pollMs: 60_000 }),
        feed: { publish: (payload) => options.publish(ns, payload), badEvents: (q) => (q as Q).stats.badEvents },
        teardown: () => options.drop(ns),
        child: options.child(ns, defaults),
      };
    },
  });
}
