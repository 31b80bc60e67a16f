import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ConflictError,
  QueueFullError,
  TASK_QUEUE_BRAND,
  TaskEventChannel,
  ValidationError,
  fenceError,
  isTaskQueue,
  newQueuedTask,
  prepareSubmit,
  requireLease,
  resolveClaim,
  resolveQueueDefaults,
  retryDelayMs,
  waitForWake,
  type TaskQueueEvent,
} from '../src/index.js';

const event = (taskId: string, poolId = 'p'): TaskQueueEvent => ({ taskId, poolId, state: 'pending', attempt: 0 });

describe('task-queue contract helpers', () => {
  it('isTaskQueue checks the global brand symbol', () => {
    expect(isTaskQueue({ [Symbol.for('@converge/task-queue')]: true })).toBe(true);
    expect(TASK_QUEUE_BRAND).toBe(Symbol.for('@converge/task-queue'));
    expect(isTaskQueue({})).toBe(false);
    expect(isTaskQueue(null)).toBe(false);
  });

  it('submit needs a pool and a deadline in the future', () => {
    expect(() => prepareSubmit({ objective: 'x' }, 0)).toThrow(ValidationError);
    expect(() => prepareSubmit({ objective: 'x', poolId: 'p', constraints: { deadline: 5 } }, 10)).toThrow(ValidationError);
    expect(prepareSubmit({ objective: 'x', poolId: 'p' }, 0).poolId).toBe('p');
  });

  it('claim requests and leases are checked', () => {
    expect(() => resolveClaim({ agentId: 'a', poolId: 'p', max: 0 })).toThrow(ValidationError);
    expect(resolveClaim({ agentId: 'a', poolId: 'p' })).toMatchObject({ max: 1, waitMs: 0, capabilities: [] });
    expect(() => requireLease(undefined, 'report')).toThrow(ValidationError);
    expect(() => requireLease({ taskId: 't', agentId: 'a', attempt: 0, expiresAt: 1 }, 'report')).toThrow(ValidationError);
  });

  it('fenceError refuses a stale attempt, another agent and an expired lease', () => {
    const t = {
      ...newQueuedTask(prepareSubmit({ objective: 'x', poolId: 'p' }, 0), 0),
      state: 'assigned' as const,
      attempts: 2,
      assignedTo: 'a',
      leaseExpiresAt: 100,
    };
    expect(fenceError(t, { taskId: t.id, agentId: 'a', attempt: 2, expiresAt: 100 }, 50)).toBeNull();
    expect(fenceError(t, { taskId: t.id, agentId: 'a', attempt: 1, expiresAt: 100 }, 50)).toBeInstanceOf(ConflictError);
    expect(fenceError(t, { taskId: t.id, agentId: 'b', attempt: 2, expiresAt: 100 }, 50)).toBeInstanceOf(ConflictError);
    expect(fenceError(t, { taskId: t.id, agentId: 'a', attempt: 2, expiresAt: 100 }, 100)).toBeInstanceOf(ConflictError);
  });

  it('the retry delay doubles up to its cap', () => {
    const d = resolveQueueDefaults({ retryBaseMs: 10, retryMaxMs: 35 });
    expect([1, 2, 3].map((f) => retryDelayMs(f, d))).toEqual([10, 20, 35]);
    expect(() => resolveQueueDefaults({ leaseMs: 0 })).toThrow(ValidationError);
  });

  it('TaskEventChannel filters by pool, ends on abort, fails when the consumer falls behind', async () => {
    const ac = new AbortController();
    let closed = 0;
    const ch = new TaskEventChannel({ signal: ac.signal, poolId: 'p' }, () => closed++);
    ch.push(event('a'));
    ch.push(event('x', 'other'));
    const seen: string[] = [];
    setTimeout(() => ac.abort(), 10);
    for await (const e of ch) seen.push(e.taskId);
    expect(seen).toEqual(['a']);
    expect(closed).toBe(1);

    const small = new TaskEventChannel({ bufferSize: 2 }, () => undefined);
    for (const id of ['1', '2', '3']) small.push(event(id));
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const e of small) got.push(e.taskId);
      })(),
    ).rejects.toBeInstanceOf(QueueFullError);
  });

  it('waitForWake resolves on wake, times out with false, and aborts with AbortError', async () => {
    let released = 0;
    expect(
      await waitForWake(5_000, (wake) => {
        setTimeout(wake, 1);
        return () => released++;
      }),
    ).toBe(true);
    expect(await waitForWake(1, () => () => released++)).toBe(false);
    const ac = new AbortController();
    const p = waitForWake(5_000, () => () => released++, ac.signal);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
    expect(released).toBe(3);
  });
});
