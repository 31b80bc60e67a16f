// The single-client behaviour of the contract: submit (and idempotent submit), claim with
// capabilities and batches, fencing, extend, retry/backoff/dead letter, deadlines, cancel.
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError, type TaskLease } from '@converge/core';
import { SUITE_DEFAULTS, type TaskQueueComplianceOptions } from './fixture.js';
import { claimOne, submitMany, useSuiteContext, type SuiteContext } from './context.js';

/** The suite's lease length and first retry backoff. */
const lease = { leaseMs: SUITE_DEFAULTS.leaseMs, base: SUITE_DEFAULTS.retryBaseMs };

/** Registers the lifecycle tests. */
export function lifecycleTests(options: TaskQueueComplianceOptions): void {
  const ctx = useSuiteContext(options);
  describe('submit', () => submitTests(ctx));
  describe('claim', () => claimTests(ctx));
  describe('fencing', () => fencingTests(ctx));
  describe('retry, backoff and dead letter', () => retryTests(ctx));
  describe('deadlines and cancel', () => deadlineTests(ctx));
}

/** Submit: a pending task, refusals, idempotency by key. */
function submitTests(ctx: () => SuiteContext): void {
  it('stores a pending task that get returns; unknown ids are NotFoundError', async () => {
    const { queue, clock } = ctx();
    const t = await queue.submit({ id: 'a1', objective: 'o', poolId: 'p', inputs: { x: 1, big: 2n ** 62n, bytes: new Uint8Array([1, 2]) } });
    expect(t).toMatchObject({ id: 'a1', state: 'pending', attempts: 0, poolId: 'p', assignedTo: null, submittedAt: clock.now });
    const got = await queue.get('a1');
    expect(got.inputs).toEqual({ x: 1, big: 2n ** 62n, bytes: new Uint8Array([1, 2]) });
    await expect(queue.get('nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a duplicate id (ConflictError), a task without a pool and a past deadline (ValidationError)', async () => {
    const { queue, clock } = ctx();
    await queue.submit({ id: 'd', objective: 'o', poolId: 'p' });
    await expect(queue.submit({ id: 'd', objective: 'o', poolId: 'p' })).rejects.toBeInstanceOf(ConflictError);
    await expect(queue.submit({ id: 'n', objective: 'o' })).rejects.toBeInstanceOf(ValidationError);
    await expect(queue.submit({ id: 'l', objective: 'o', poolId: 'p', constraints: { deadline: clock.now } })).rejects.toBeInstanceOf(ValidationError);
  });

  it('is idempotent by key, also when two clients race: one task, the first one', async () => {
    const { queue, open } = ctx();
    const other = await open();
    const [a, b] = await Promise.all([
      queue.submit({ id: 'k1', objective: 'first', poolId: 'p' }, { idempotencyKey: 'order-7' }),
      other.submit({ id: 'k2', objective: 'second', poolId: 'p' }, { idempotencyKey: 'order-7' }),
    ]);
    expect(a.id).toBe(b.id);
    const again = await queue.submit({ id: 'k3', objective: 'third', poolId: 'p' }, { idempotencyKey: 'order-7' });
    expect(again.id).toBe(a.id);
    expect((await queue.list()).tasks.map((t) => t.id)).toEqual([a.id]);
    // A different key is a different task.
    expect((await queue.submit({ id: 'k4', objective: 'o', poolId: 'p' }, { idempotencyKey: 'order-8' })).id).toBe('k4');
  });
}

/** Claim: the lease handed out, pool and capability matching, batches. */
function claimTests(ctx: () => SuiteContext): void {
  it('hands out a lease with attempt 1 and the lease length; nothing claimable gives []', async () => {
    const { queue, clock } = ctx();
    expect(await queue.claim({ agentId: 'a', poolId: 'p' })).toEqual([]);
    await queue.submit({ id: 'c1', objective: 'o', poolId: 'p' });
    const { task, lease: l } = await claimOne(queue);
    expect(l).toEqual({ taskId: 'c1', agentId: 'a', attempt: 1, expiresAt: clock.now + lease.leaseMs });
    expect(task).toMatchObject({ id: 'c1', state: 'assigned', assignedTo: 'a', attempts: 1 });
    expect(await queue.claim({ agentId: 'b', poolId: 'p' })).toEqual([]);
  });

  it('takes only tasks of the pool whose capabilities the agent has, oldest first, up to max', async () => {
    const { queue } = ctx();
    await queue.submit({ id: 'x1', objective: 'o', poolId: 'p', requiredCapabilities: ['gpu'] });
    await queue.submit({ id: 'x2', objective: 'o', poolId: 'p' });
    await queue.submit({ id: 'x3', objective: 'o', poolId: 'q' });
    await queue.submit({ id: 'x4', objective: 'o', poolId: 'p', requiredCapabilities: ['gpu', 'ssd'] });
    await queue.submit({ id: 'x5', objective: 'o', poolId: 'p' });
    expect((await queue.claim({ agentId: 'a', poolId: 'p', max: 10 })).map((c) => c.task.id).sort()).toEqual(['x2', 'x5']);
    expect((await queue.claim({ agentId: 'a', poolId: 'p', capabilities: ['gpu'], max: 10 })).map((c) => c.task.id)).toEqual(['x1']);
    expect((await queue.claim({ agentId: 'a', poolId: 'p', capabilities: ['ssd', 'gpu'], max: 10 })).map((c) => c.task.id)).toEqual(['x4']);
    expect((await queue.claim({ agentId: 'a', poolId: 'q', max: 10 })).map((c) => c.task.id)).toEqual(['x3']);
  });

  it('batch claims each task once', async () => {
    const { queue } = ctx();
    await submitMany(queue, 12);
    const first = await queue.claim({ agentId: 'a', poolId: 'p', max: 5 });
    const second = await queue.claim({ agentId: 'b', poolId: 'p', max: 10 });
    const ids = [...first, ...second].map((c) => c.task.id);
    expect(first).toHaveLength(5);
    expect(second).toHaveLength(7);
    expect(new Set(ids).size).toBe(12);
    await expect(queue.claim({ agentId: 'a', poolId: 'p', max: 0 })).rejects.toBeInstanceOf(ValidationError);
  });
}

/** Fencing: calls without the lease, stale attempts, extend. */
function fencingTests(ctx: () => SuiteContext): void {
  it('report, fail and extend need the lease (ValidationError without it)', async () => {
    const { queue } = ctx();
    await queue.submit({ id: 'f0', objective: 'o', poolId: 'p' });
    await claimOne(queue);
    await expect(queue.report(undefined as unknown as TaskLease, 1)).rejects.toBeInstanceOf(ValidationError);
    await expect(queue.fail(undefined as unknown as TaskLease, 'x')).rejects.toBeInstanceOf(ValidationError);
    await expect(queue.extend(undefined as unknown as TaskLease)).rejects.toBeInstanceOf(ValidationError);
  });

  it('a stale attempt is refused after its lease expired and the task was claimed again', async () => {
    const { queue, clock } = ctx();
    await queue.submit({ id: 'f1', objective: 'o', poolId: 'p' });
    const old = (await claimOne(queue, 'a')).lease;
    clock.advance(lease.leaseMs + 1);
    // Expired but not yet swept: still refused.
    await expect(queue.report(old, 'late')).rejects.toBeInstanceOf(ConflictError);
    expect(await queue.expire()).toEqual([{ taskId: 'f1', agentId: 'a', attempt: 1, outcome: 'pending' }]);
    const cur = (await claimOne(queue, 'b')).lease;
    expect(cur.attempt).toBe(2);
    await expect(queue.report(old, 'stale')).rejects.toBeInstanceOf(ConflictError);
    await expect(queue.fail(old, 'stale')).rejects.toBeInstanceOf(ConflictError);
    await expect(queue.extend(old)).rejects.toBeInstanceOf(ConflictError);
    // Right attempt, wrong agent.
    await expect(queue.report({ ...cur, agentId: 'a' }, 'x')).rejects.toBeInstanceOf(ConflictError);
    const done = await queue.report(cur, 'ok');
    expect(done).toMatchObject({ state: 'completed', result: 'ok', attempts: 2, failures: 1 });
    await expect(queue.report(cur, 'twice')).rejects.toBeInstanceOf(ConflictError);
  });

  it('extend moves the expiry; the lease then outlives its first expiry', async () => {
    const { queue, clock } = ctx();
    await queue.submit({ id: 'e1', objective: 'o', poolId: 'p' });
    const l = (await claimOne(queue)).lease;
    clock.advance(lease.leaseMs - 10);
    const ext = await queue.extend(l);
    expect(ext).toEqual({ ...l, expiresAt: clock.now + lease.leaseMs });
    clock.advance(20);
    expect(await queue.expire()).toEqual([]);
    expect((await queue.report(ext, 1)).state).toBe('completed');
  });
}

/** Retry: doubling backoff, dead letter past maxRetries, expired leases as failures. */
function retryTests(ctx: () => SuiteContext): void {
  it('fail retries after a doubling backoff, then dead-letters past maxRetries', async () => {
    const { queue, clock } = ctx();
    await queue.submit({ id: 'r1', objective: 'o', poolId: 'p', constraints: { maxRetries: 2 } });
    let l = (await claimOne(queue)).lease;
    const t1 = await queue.fail(l, 'boom');
    expect(t1).toMatchObject({ state: 'pending', failures: 1, failureReason: 'boom', notBefore: clock.now + lease.base, deadLettered: false });
    expect(await queue.claim({ agentId: 'a', poolId: 'p' })).toEqual([]);
    clock.advance(lease.base);
    l = (await claimOne(queue)).lease;
    expect(l.attempt).toBe(2);
    expect((await queue.fail(l, 'boom')).notBefore).toBe(clock.now + Math.min(2 * lease.base, SUITE_DEFAULTS.retryMaxMs));
    clock.advance(SUITE_DEFAULTS.retryMaxMs);
    l = (await claimOne(queue)).lease;
    const dead = await queue.fail(l, 'boom');
    expect(dead).toMatchObject({ state: 'failed', deadLettered: true, failures: 3 });
    clock.advance(SUITE_DEFAULTS.retryMaxMs);
    expect(await queue.claim({ agentId: 'a', poolId: 'p' })).toEqual([]);
    expect((await queue.list({ state: 'failed' })).tasks.map((t) => t.id)).toEqual(['r1']);
  });

  it('an expired lease counts as a failed attempt; the last one dead-letters', async () => {
    const { queue, clock } = ctx();
    await queue.submit({ id: 'r2', objective: 'o', poolId: 'p', constraints: { maxRetries: 1, claimTtlMs: 50 } });
    await claimOne(queue);
    clock.advance(50);
    expect((await queue.expire()).map((e) => e.outcome)).toEqual(['pending']);
    await claimOne(queue);
    clock.advance(50);
    expect((await queue.expire()).map((e) => e.outcome)).toEqual(['dead-lettered']);
    expect(await queue.get('r2')).toMatchObject({ state: 'failed', deadLettered: true, failureReason: 'lease-expired' });
  });
}

/** Deadlines and cancel: the sweep, late reports, cancel and fencing of its holder. */
function deadlineTests(ctx: () => SuiteContext): void {
  it('a pending task past its deadline is not handed out and the sweep fails it', async () => {
    const { queue, clock } = ctx();
    await queue.submit({ id: 'dl', objective: 'o', poolId: 'p', constraints: { deadline: clock.now + 100 } });
    clock.advance(100);
    expect(await queue.claim({ agentId: 'a', poolId: 'p' })).toEqual([]);
    expect(await queue.expire()).toEqual([{ taskId: 'dl', agentId: null, attempt: 0, outcome: 'expired' }]);
    expect(await queue.get('dl')).toMatchObject({ state: 'failed', failureReason: 'deadline', deadLettered: false });
  });

  it('a claimed task past its deadline cannot be reported', async () => {
    const { queue, clock } = ctx();
    await queue.submit({ id: 'dl2', objective: 'o', poolId: 'p', constraints: { deadline: clock.now + 100 } });
    const l = (await claimOne(queue)).lease;
    clock.advance(100);
    await expect(queue.report(l, 'late')).rejects.toBeInstanceOf(ConflictError);
    await queue.expire();
    expect((await queue.get('dl2')).state).toBe('failed');
  });

  it('cancel stops a pending or claimed task; the holder is then fenced; terminal or unknown tasks are refused', async () => {
    const { queue } = ctx();
    await submitMany(queue, 2, 'p', 'cx');
    expect((await queue.cancel('cx00000')).state).toBe('cancelled');
    const { lease: l } = await claimOne(queue);
    expect(l.taskId).toBe('cx00001');
    expect((await queue.cancel('cx00001')).state).toBe('cancelled');
    await expect(queue.report(l, 1)).rejects.toBeInstanceOf(ConflictError);
    await expect(queue.cancel('cx00001')).rejects.toBeInstanceOf(ConflictError);
    await expect(queue.cancel('nope')).rejects.toBeInstanceOf(NotFoundError);
    expect(await queue.claim({ agentId: 'a', poolId: 'p', max: 5 })).toEqual([]);
  });
}
