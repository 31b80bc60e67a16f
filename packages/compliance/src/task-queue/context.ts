// Per-test state of the task-queue suite: a fresh namespace, its clock, and every queue
// opened on it (stopped, then the namespace removed, after the test).
import { afterEach, beforeEach } from 'vitest';
import type { ClaimedTask, QueuedTask, TaskInit, TaskQueue } from '@converge/core';
import { SUITE_DEFAULTS, TestClock, type TaskQueueComplianceOptions, type TaskQueueFixture } from './fixture.js';

/** What each test of the suite works with. */
export interface SuiteContext {
  clock: TestClock;
  fixture: TaskQueueFixture;
  /** The first queue of the namespace (started). */
  queue: TaskQueue;
  /** Opens and starts another client of the namespace. */
  open: () => Promise<TaskQueue>;
}

/** Registers the hooks that build and tear down a `SuiteContext` around each test; returns its getter. */
export function useSuiteContext(options: TaskQueueComplianceOptions, realClock = false): () => SuiteContext {
  let ctx: SuiteContext | undefined;
  let opened: TaskQueue[] = [];
  beforeEach(async () => {
    const clock = new TestClock();
    const fixture = await options.setup({ clock: realClock ? Date.now : clock.fn, defaults: SUITE_DEFAULTS, crossProcess: realClock });
    opened = [];
    const open = async (): Promise<TaskQueue> => {
      const q = await fixture.open();
      opened.push(q);
      await q.start();
      return q;
    };
    ctx = { clock, fixture, queue: await open(), open };
  });
  afterEach(async () => {
    await Promise.allSettled(opened.map((q) => q.stop()));
    await ctx?.fixture.teardown();
    ctx = undefined;
  });
  return () => ctx!;
}

/** Submits `n` tasks `<prefix><i>` to `poolId`. */
export async function submitMany(queue: TaskQueue, n: number, poolId = 'p', prefix = 't', extra: Partial<TaskInit> = {}): Promise<QueuedTask[]> {
  const out: QueuedTask[] = [];
  // A few at a time: fast on every engine, and never thousands of calls in flight.
  for (let i = 0; i < n; i += 16) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 16); j++)
      batch.push(queue.submit({ id: `${prefix}${String(j).padStart(5, '0')}`, objective: `task ${j}`, poolId, inputs: { n: j }, ...extra }));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** Claims exactly one task (the test fails when there is none). */
export async function claimOne(queue: TaskQueue, agentId = 'a', poolId = 'p', capabilities: string[] = []): Promise<ClaimedTask> {
  const got = await queue.claim({ agentId, poolId, capabilities });
  if (got.length !== 1) throw new Error(`expected one claimable task in ${poolId}, got ${got.length}`);
  return got[0]!;
}
