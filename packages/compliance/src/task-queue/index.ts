/**
 * `@converge/compliance/task-queue`: the behaviour every `TaskQueue` must show, as a vitest suite.
 *
 * ```ts
 * import { taskQueueComplianceTests } from '@converge/compliance/task-queue';
 * taskQueueComplianceTests({
 *   name: 'MyQueue',
 *   setup: async ({ clock, defaults }) => {
 *     const ns = freshNamespace();
 *     return {
 *       open: async () => new MyQueue({ ns, clock, defaults }),
 *       teardown: () => dropNamespace(ns),
 *       child: { module: '/abs/path/my-queue-child.ts', options: { ns } },
 *     };
 *   },
 * });
 * ```
 * @packageDocumentation
 */
import { describe } from 'vitest';
import type { TaskQueueComplianceOptions } from './fixture.js';
import { lifecycleTests } from './lifecycle-tests.js';
import { concurrencyTests } from './concurrency-tests.js';
import { crashTests } from './crash-tests.js';
import { feedTests } from './feed-tests.js';

export { startHoldingChild, type HoldingChild } from './child-process.js';
export { serverTaskQueueTests, type ServerQueueClientOptions, type ServerTaskQueueOptions } from './server.js';
export {
  SUITE_DEFAULTS,
  TestClock,
  type ChildQueueFactory,
  type RawEventFeed,
  type TaskQueueComplianceOptions,
  type TaskQueueFixture,
  type TaskQueueSetupContext,
} from './fixture.js';

/**
 * Registers a vitest suite that checks a task-queue implementation against the contract:
 * submit and idempotent submit, claims by pool and capability and in batches, fencing of
 * stale and expired leases, extend, retry with backoff then dead letter, deadlines, cancel,
 * list paging, watch, waiting claims, exactly-once under 8 concurrent claimers, a child
 * process SIGKILLed while holding claims and, when the fixture gives them, a wake-ups-only
 * client and payloads on the event feed that are not events.
 */
export function taskQueueComplianceTests(options: TaskQueueComplianceOptions): void {
  describe(`TaskQueue compliance: ${options.name}`, () => {
    describe('lifecycle', () => lifecycleTests(options));
    describe('many clients', () => concurrencyTests(options));
    describe('crash', () => crashTests(options));
    describe('event feed', () => feedTests(options));
  });
}
