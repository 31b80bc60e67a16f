// What an implementation hands the task-queue compliance suite, and the suite's test clock.
import type { TaskQueue, TaskQueueDefaults } from '@converge/core';

/** What `setup` gets: the clock every queue of the namespace must use, and the defaults to apply. */
export interface TaskQueueSetupContext {
  /** Unix ms; the suite moves it forward to expire leases and backoffs without waiting. */
  clock: () => number;
  /** Queue defaults the suite's expectations are computed from. */
  defaults: Required<TaskQueueDefaults>;
  /**
   * Whether this namespace will also be used from a child process (the SIGKILL test, which
   * also passes `Date.now` as the clock): an in-memory implementation must then pick a shared one.
   */
  crossProcess: boolean;
}

/** A child-process queue for the SIGKILL test: `module` exports `createTaskQueue(options)`. */
export interface ChildQueueFactory {
  /** Absolute path (or file URL) of an ES module exporting `createTaskQueue(options: unknown): TaskQueue | Promise<TaskQueue>`. */
  module: string;
  /** JSON-serializable options for that function, naming this fixture's namespace (the child uses the real clock). */
  options: unknown;
  /** Node flags of the child (default: `--import tsx --conditions=@converge/source`, as the tests run from source). */
  execArgv?: string[];
}

/** One fresh, empty queue namespace (a table prefix, a key prefix, a store). */
export interface TaskQueueFixture {
  /** A new client of this namespace (its own connections); the suite starts and stops it. */
  open(): Promise<TaskQueue>;
  /** Removes the namespace (called after the test's queues stopped). */
  teardown(): Promise<void>;
  /** Needed by the SIGKILL test (which fails without it). */
  child?: ChildQueueFactory;
  /**
   * A new client of this namespace that notifies only tasks entering pending and polls rarely
   * (e.g. `notify: 'wake-ups'` and a `pollMs` of a minute), for the wake-ups test (skipped
   * without it). The suite starts and stops it.
   */
  openWakeUpsOnly?(): Promise<TaskQueue>;
  /** The engine's raw event feed, for the bad-payload test (skipped without it). */
  feed?: RawEventFeed;
}

/** How the suite reaches a namespace's event feed from outside (as a broken or hostile process would). */
export interface RawEventFeed {
  /** Sends `payload` as is on the namespace's event channel (a NOTIFY, a PUBLISH). */
  publish(payload: string): Promise<void>;
  /** The queue's count of feed payloads that were not events (e.g. `queue.stats.badEvents`). */
  badEvents(queue: TaskQueue): number;
}

/** Options of `taskQueueComplianceTests`. */
export interface TaskQueueComplianceOptions {
  /** Suite title, e.g. `'PostgresTaskQueue'`. */
  name: string;
  /** Makes a fresh namespace whose queues use `ctx.clock` and `ctx.defaults`. */
  setup(ctx: TaskQueueSetupContext): Promise<TaskQueueFixture>;
  /** Tasks in the concurrency test (default 200). */
  concurrentTasks?: number;
}

/** The suite's defaults: short enough to be walked through with the test clock. */
export const SUITE_DEFAULTS: Required<TaskQueueDefaults> = { leaseMs: 1_000, maxRetries: 2, retryBaseMs: 100, retryMaxMs: 150 };

/** A clock that only moves when told to. */
export class TestClock {
  /** Current Unix ms. */
  now = 1_800_000_000_000;
  /** The clock function to hand to queues. */
  readonly fn = (): number => this.now;
  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.now += ms;
  }
}
