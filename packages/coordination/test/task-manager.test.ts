import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError, createTask } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { PoolManager, TaskManager, type TaskRecord } from '../src/index.js';

function setup(opts: { now?: number; maxRetries?: number } = {}) {
  const store = new MemoryStore();
  const clock = { now: opts.now ?? 1_000_000 };
  const tm = new TaskManager({
    store,
    clock: () => clock.now,
    defaults: { claimTtlMs: 1_000, maxRetries: opts.maxRetries, retryBaseMs: 100, retryMaxMs: 400 },
  });
  // Tasks in a pool need the pool to exist (the TaskManager reads a PoolManager's pools on its store).
  const pools = new PoolManager({ store });
  return { store, clock, tm, pools };
}

async function expectRefused(fn: () => Promise<unknown>, cls: new (...a: never[]) => Error, state?: string) {
  const err = await fn().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(cls);
  if (state !== undefined) {
    expect((err as ConflictError).currentState).toBe(state);
    expect((err as Error).message).toContain(state);
  }
  return err as Error;
}

describe('TaskManager lifecycle', () => {
  it('submit → claim → start → report, with a lease and events', async () => {
    const { tm } = setup();
    const seen: string[] = [];
    for (const e of ['submitted', 'claimed', 'started', 'completed'] as const) tm.on(e, () => seen.push(e));
    await tm.submit(createTask({ id: 't1', objective: 'x' }));
    const lease = await tm.claim('a', 't1');
    expect(lease).toEqual({ taskId: 't1', agentId: 'a', attempt: 1, expiresAt: 1_001_000 });
    expect((await tm.start('a', 't1', lease)).state).toBe('running');
    const done = await tm.report('a', 't1', { answer: 42 }, lease);
    expect(done.state).toBe('completed');
    expect((await tm.getTask('t1')).result).toEqual({ answer: 42 });
    expect(seen).toEqual(['submitted', 'claimed', 'started', 'completed']);
    expect(tm.stats()).toMatchObject({ submitted: 1, claims: 1, completed: 1, conflicts: 0 });
  });

  it('a claim is exactly-once between two TaskManagers on one store', async () => {
    const { store, clock } = setup();
    const m1 = new TaskManager({ store, clock: () => clock.now });
    const m2 = new TaskManager({ store, clock: () => clock.now });
    for (let i = 0; i < 200; i++) await m1.submit({ id: `t${i}`, objective: 'x' });
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => [m1.claim('a', `t${i}`), m2.claim('b', `t${i}`)]).flat());
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(200);
    expect(lost.every((r) => (r as PromiseRejectedResult).reason instanceof ConflictError)).toBe(true);
    expect(m1.stats().claims + m2.stats().claims).toBe(200);
    expect(await tm2pending(m1)).toBe(0);
  });

  it('cancel works from pending, assigned and running, and is refused from terminal states', async () => {
    const { tm } = setup();
    for (const id of ['p', 'a', 'r']) await tm.submit({ id, objective: 'x' });
    await tm.claim('w', 'a');
    await tm.start('w', 'r', await tm.claim('w', 'r'));
    for (const id of ['p', 'a', 'r']) expect((await tm.cancel(id)).state).toBe('cancelled');
    await expectRefused(() => tm.cancel('p'), ConflictError, 'cancelled');
    expect(await tm.listPendingTasks()).toEqual([]);
    expect(await tm.releaseExpiredClaims(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });
});

async function tm2pending(tm: TaskManager): Promise<number> {
  return (await tm.listPendingTasks()).length;
}

describe('TaskManager leases and fencing', () => {
  it('a worker that stops heartbeating loses its lease; its late report is refused; another worker completes the task', async () => {
    const { tm, clock } = setup();
    await tm.submit({ id: 't', objective: 'x' });
    let lease1 = await tm.claim('w1', 't');
    clock.now += 600;
    lease1 = await tm.extendClaim(lease1); // heartbeat
    expect(lease1.expiresAt).toBe(clock.now + 1_000);
    clock.now += 900; // still alive thanks to the heartbeat
    await expectRefused(() => tm.claim('w2', 't'), ConflictError, 'assigned');
    clock.now += 200; // w1 stopped heartbeating: the lease ran out
    const lease2 = await tm.claim('w2', 't'); // takes over the expired claim
    expect(lease2.attempt).toBe(2);
    const before = await tm.getTask('t');
    const err = await expectRefused(() => tm.report('w1', 't', 'late', lease1), ConflictError, 'assigned');
    expect(err.message).toMatch(/stale lease|w2/);
    await expectRefused(() => tm.extendClaim(lease1), ConflictError, 'assigned');
    expect(await tm.getTask('t')).toEqual(before);
    const done = await tm.report('w2', 't', 'ok', lease2);
    expect(done).toMatchObject({ state: 'completed', assignedTo: 'w2', result: 'ok', attempts: 2, failures: 1 });
  });

  it('releaseExpiredClaims returns expired claims to pending and says what it released', async () => {
    const { tm, clock } = setup();
    const released: TaskRecord[] = [];
    tm.on('released', (t) => released.push(t));
    await tm.submit({ id: 'a', objective: 'x' });
    await tm.submit({ id: 'b', objective: 'x', constraints: { claimTtlMs: 5_000 } });
    await tm.claim('w', 'a');
    await tm.claim('w', 'b');
    expect(await tm.releaseExpiredClaims()).toEqual([]);
    clock.now += 1_000;
    expect(await tm.releaseExpiredClaims()).toEqual([{ taskId: 'a', agentId: 'w', attempt: 1, outcome: 'pending' }]);
    expect((await tm.getTask('a')).state).toBe('pending');
    expect((await tm.getTask('b')).state).toBe('assigned');
    expect(released.map((t) => t.id)).toEqual(['a']);
    expect((await tm.listPendingTasks()).map((t) => t.id)).toEqual(['a']);
    expect(tm.stats().released).toBe(1);
  });

  it('a report by the wrong agent is refused, naming state and assignee; the record is unchanged', async () => {
    const { tm } = setup();
    await tm.submit({ id: 't', objective: 'x' });
    await tm.claim('alice', 't');
    const before = await tm.getTask('t');
    // Mallory forges a lease for the current attempt: the record's assignee decides.
    const forged = { taskId: 't', agentId: 'mallory', attempt: 1, expiresAt: Number.MAX_SAFE_INTEGER };
    const err = await expectRefused(() => tm.report('mallory', 't', 'x', forged), ConflictError, 'assigned');
    expect(err.message).toContain('alice');
    await expectRefused(() => tm.fail('t', 'no', 'mallory', forged), ConflictError, 'assigned');
    await expectRefused(() => tm.start('mallory', 't', forged), ConflictError, 'assigned');
    expect(await tm.getTask('t')).toEqual(before);
  });

  it('release hands a claim back without counting a failure', async () => {
    const { tm } = setup();
    await tm.submit({ id: 't', objective: 'x' });
    const lease = await tm.claim('w', 't');
    const r = await tm.release('w', 't', lease);
    expect(r).toMatchObject({ state: 'pending', assignedTo: null, failures: 0 });
    expect((await tm.claim('v', 't')).attempt).toBe(2);
  });
});

describe('TaskManager retries, dead letters and deadlines', () => {
  it('fail retries with exponential backoff, then dead-letters', async () => {
    const { tm, clock } = setup({ maxRetries: 2 });
    const failed: boolean[] = [];
    tm.on('failed', (e) => failed.push(e.deadLettered));
    await tm.submit({ id: 't', objective: 'x' });
    let lease = await tm.claim('w', 't');
    let r = await tm.fail('t', 'boom', 'w', lease);
    expect(r).toMatchObject({ state: 'pending', failures: 1, notBefore: clock.now + 100, failureReason: 'boom' });
    await expectRefused(() => tm.claim('w', 't'), ConflictError, 'pending'); // backing off
    expect(await tm.listPendingTasksForAgent('w', [], [])).toEqual([]);
    clock.now += 100;
    expect((await tm.listPendingTasksForAgent('w', [], [])).map((t) => t.id)).toEqual(['t']);
    lease = await tm.claim('w', 't');
    r = await tm.fail('t', 'boom', 'w', lease);
    expect(r.notBefore).toBe(clock.now + 200);
    clock.now += 200;
    lease = await tm.claim('w', 't');
    r = await tm.fail('t', 'boom', 'w', lease);
    expect(r).toMatchObject({ state: 'failed', deadLettered: true, failures: 3, attempts: 3 });
    expect((await tm.listDeadLetters()).map((t) => t.id)).toEqual(['t']);
    expect(await tm.listPendingTasks()).toEqual([]);
    expect(failed).toEqual([false, false, true]);
    expect(tm.stats()).toMatchObject({ failed: 3, retried: 2, deadLettered: 1 });
  });

  it('an expired lease counts as a failed attempt: maxRetries 0 dead-letters at the sweep', async () => {
    const { tm, clock } = setup();
    await tm.submit({ id: 't', objective: 'x', constraints: { maxRetries: 0 } });
    await tm.claim('w', 't');
    clock.now += 5_000;
    expect(await tm.releaseExpiredClaims()).toEqual([{ taskId: 't', agentId: 'w', attempt: 1, outcome: 'dead-lettered' }]);
    expect(await tm.getTask('t')).toMatchObject({ state: 'failed', deadLettered: true, failureReason: 'lease-expired' });
    expect(tm.stats().deadLettered).toBe(1);
  });

  it('a task past its deadline fails with reason deadline when touched or swept', async () => {
    const { tm, clock } = setup();
    const t0 = clock.now;
    await tm.submit({ id: 'touched', objective: 'x', constraints: { deadline: t0 + 500 } });
    await tm.submit({ id: 'swept', objective: 'x', constraints: { deadline: t0 + 500 } });
    await tm.submit({ id: 'claimed', objective: 'x', constraints: { deadline: t0 + 500, claimTtlMs: 10_000 } });
    const lease = await tm.claim('w', 'claimed');
    clock.now = t0 + 500;
    await expectRefused(() => tm.claim('w', 'touched'), ConflictError, 'failed');
    expect(await tm.getTask('touched')).toMatchObject({ state: 'failed', failureReason: 'deadline', deadLettered: false });
    await expectRefused(() => tm.report('w', 'claimed', 'late', lease), ConflictError, 'failed');
    const swept = await tm.sweep();
    expect(swept).toEqual([{ taskId: 'swept', agentId: null, attempt: 0, outcome: 'expired' }]);
    expect(tm.stats().expired).toBe(3);
    await expect(tm.submit({ id: 'late', objective: 'x', constraints: { deadline: t0 } })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('TaskManager bad input', () => {
  it('unknown ids are NotFoundError; illegal transitions are ConflictError with currentState; nothing changes', async () => {
    const { tm } = setup();
    await expectRefused(() => tm.claim('a', 'nope'), NotFoundError);
    await expectRefused(() => tm.report('a', 'nope', 1, { taskId: 'nope', agentId: 'a', attempt: 1, expiresAt: 0 }), NotFoundError);
    await expectRefused(() => tm.cancel('nope'), NotFoundError);
    await expectRefused(() => tm.getTask('nope'), NotFoundError);
    await tm.submit({ id: 't', objective: 'x' });
    const pending = await tm.getTask('t');
    const none = { taskId: 't', agentId: 'a', attempt: 1, expiresAt: 0 };
    await expectRefused(() => tm.report('a', 't', 1, none), ConflictError, 'pending');
    await expectRefused(() => tm.start('a', 't', none), ConflictError, 'pending');
    await expectRefused(() => tm.fail('t', 'x', 'a', none), ConflictError, 'pending');
    expect(await tm.getTask('t')).toEqual(pending);
    const lease = await tm.claim('a', 't');
    await tm.report('a', 't', 1, lease);
    const done = await tm.getTask('t');
    await expectRefused(() => tm.claim('b', 't'), ConflictError, 'completed');
    await expectRefused(() => tm.report('a', 't', 2, lease), ConflictError, 'completed');
    await expectRefused(() => tm.cancel('t'), ConflictError, 'completed');
    await expectRefused(() => tm.submit({ id: 't', objective: 'again' }), ConflictError, 'completed');
    expect(await tm.getTask('t')).toEqual(done);
    expect(tm.stats().conflicts).toBe(7);
    await expect(tm.submit({ id: 'c', objective: 'x', constraints: { claimTtlMs: -1 } })).rejects.toBeInstanceOf(ValidationError);
    await expect(tm.submit({ id: 's', objective: 'x', state: 'completed' })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('TaskManager restart and index', () => {
  it('a new TaskManager on the same store resumes every pending and claimed task', async () => {
    const { store, clock, tm, pools } = setup();
    await pools.createPool({ id: 'p' });
    for (let i = 0; i < 10; i++) await tm.submit({ id: `t${i}`, objective: 'x', poolId: 'p' });
    const leases = [await tm.claim('w', 't0'), await tm.claim('w', 't1'), await tm.claim('w', 't2')];
    tm.stop();
    const tm2 = new TaskManager({ store, clock: () => clock.now });
    expect((await tm2.listPendingTasks()).map((t) => t.id).sort()).toEqual(['t3', 't4', 't5', 't6', 't7', 't8', 't9']);
    expect((await tm2.listPendingTasksForAgent('v', ['p'], [])).length).toBe(7);
    // The live lease is honoured by the new manager (lease state is in the store).
    await tm2.report('w', 't0', 'done', leases[0]);
    // Leases expire by the wall clock across the restart; the sweep frees them.
    clock.now += 1_000;
    const released = await tm2.releaseExpiredClaims();
    expect(released.map((r) => r.taskId).sort()).toEqual(['t1', 't2']);
    expect((await tm2.listPendingTasks()).length).toBe(9);
  });

  it('listPendingTasksForAgent filters by pool and capabilities, and stays fresh through the watch cache', async () => {
    const { tm, pools } = setup();
    for (const id of ['pool:1', 'pool:2']) await pools.createPool({ id });
    await tm.submit({ id: 'p1', objective: 'x', poolId: 'pool:1' });
    await tm.submit({ id: 'p2', objective: 'x', poolId: 'pool:2' });
    await tm.submit({ id: 'free', objective: 'x' });
    await tm.submit({ id: 'gpu', objective: 'x', poolId: 'pool:1', requiredCapabilities: ['gpu'] });
    const ids = async (pools: string[], caps: string[]) => (await tm.listPendingTasksForAgent('a', pools, caps)).map((t) => t.id).sort();
    expect(await ids(['pool:1'], [])).toEqual(['free', 'p1']);
    expect(await ids(['pool:1'], ['gpu'])).toEqual(['free', 'gpu', 'p1']);
    expect(await ids(['pool:1', 'pool:2'], [])).toEqual(['free', 'p1', 'p2']);
    expect(await ids(['pool'], [])).toEqual(['free']); // no prefix aliasing of "pool" and "pool:1"
    await tm.claim('a', 'p1');
    expect(await ids(['pool:1'], [])).toEqual(['free']);
    await tm.submit({ id: 'p3', objective: 'x', poolId: 'pool:1' });
    expect(await ids(['pool:1'], [])).toEqual(['free', 'p3']);
    const listed = await tm.listPendingTasksForAgent('a', ['pool:1'], []);
    expect(Object.isFrozen(listed[0])).toBe(true);
  });

  it('a stale pending-index entry is skipped and removed lazily', async () => {
    const { store, tm } = setup();
    await tm.submit({ id: 't', objective: 'x' });
    await tm.report('a', 't', 1, await tm.claim('a', 't'));
    await store.put('task-pending:#:t', 1); // e.g. left by a crash
    await store.put('task-pending:#:ghost', 1);
    expect(await tm.listPendingTasks()).toEqual([]);
    expect(await store.list('task-pending:')).toEqual([]);
    expect(tm.stats().indexRepairs).toBe(2);
  });

  it('the sweep finishes a release interrupted between the record CAS and the index writes', async () => {
    const { store, tm } = setup();
    await tm.submit({ id: 't', objective: 'x' });
    await tm.claim('a', 't');
    // Simulate the crash: the record is back to pending, the indexes were not updated.
    const e = (await store.getEntry<TaskRecord>('task:t'))!;
    await store.compareAndSet('task:t', { ...e.value, state: 'pending', assignedTo: null, leaseExpiresAt: null }, e.revision);
    await store.delete('task-pending:#:t');
    await tm.releaseExpiredClaims();
    expect(await store.list('task-claimed:')).toEqual([]);
    expect((await tm.listPendingTasks()).map((t) => t.id)).toEqual(['t']);
  });
});
