// TaskManager.purge: deletes old terminal records and their index entries, never live tasks;
// bounded by `limit`; filtered by state; counted.
import { describe, expect, it } from 'vitest';
import { AbortError, NotFoundError, ValidationError } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { PURGE_PAGE_SIZE, TASK_KEYS, TaskManager } from '../src/index.js';

function setup() {
  const store = new MemoryStore();
  const clock = { now: 1_000_000 };
  // No pool checks: these tests are about records, and pool 'p' is only a partition key here.
  const tm = new TaskManager({ store, clock: () => clock.now, defaults: { claimTtlMs: 1_000, maxRetries: 0 }, pools: null });
  return { store, clock, tm };
}

/** One task in each state: completed, cancelled, failed (dead-lettered), pending, assigned, running. */
async function mixed(tm: TaskManager, prefix = '') {
  for (const id of ['done', 'cancel', 'dead', 'pending', 'assigned', 'running']) await tm.submit({ id: prefix + id, objective: 'x', poolId: 'p' });
  const l = await tm.claim('w', `${prefix}done`);
  await tm.report('w', `${prefix}done`, 1, l);
  await tm.cancel(`${prefix}cancel`);
  const d = await tm.claim('w', `${prefix}dead`);
  await tm.fail(`${prefix}dead`, 'boom', 'w', d);
  await tm.claim('w', `${prefix}assigned`);
  await tm.start('w', `${prefix}running`, await tm.claim('w', `${prefix}running`));
}

describe('TaskManager.purge', () => {
  it('deletes terminal records older than olderThan with their index entries; live tasks stay', async () => {
    const { store, clock, tm } = setup();
    await mixed(tm);
    expect((await tm.listDeadLetters()).map((r) => r.id)).toEqual(['dead']);
    // Nothing is older than "now": nothing goes.
    expect(await tm.purge({ olderThan: clock.now })).toBe(0);
    clock.now += 10;
    expect(await tm.purge({ olderThan: clock.now })).toBe(3);
    expect(tm.stats().purged).toBe(3);
    for (const id of ['done', 'cancel', 'dead']) await expect(tm.getTask(id)).rejects.toBeInstanceOf(NotFoundError);
    for (const id of ['pending', 'assigned', 'running']) expect((await tm.getTask(id)).id).toBe(id);
    expect(await tm.listDeadLetters()).toEqual([]);
    expect(await store.list(TASK_KEYS.dead)).toEqual([]);
    // Only the live tasks' records and index entries remain.
    expect((await store.list(TASK_KEYS.record)).sort()).toEqual(['task:assigned', 'task:pending', 'task:running']);
    expect(await store.list(TASK_KEYS.claimed)).toHaveLength(2);
    expect((await tm.listPendingTasks()).map((r) => r.id)).toEqual(['pending']);
    // The live tasks still work.
    const l = await tm.claim('w', 'pending');
    expect((await tm.report('w', 'pending', 2, l)).state).toBe('completed');
    expect(await tm.purge({ olderThan: clock.now + 1 })).toBe(1);
    expect(tm.stats().purged).toBe(4);
  });

  it('filters by state and by age (updatedAt strictly before olderThan)', async () => {
    const { clock, tm } = setup();
    await mixed(tm, 'old-');
    clock.now += 1_000;
    await mixed(tm, 'new-');
    clock.now += 1_000;
    expect(await tm.purge({ olderThan: clock.now - 1_000, states: ['completed'] })).toBe(1);
    await expect(tm.getTask('old-done')).rejects.toBeInstanceOf(NotFoundError);
    expect((await tm.getTask('new-done')).state).toBe('completed');
    expect((await tm.getTask('old-cancel')).state).toBe('cancelled');
    expect(await tm.purge({ olderThan: clock.now - 1_000, states: ['cancelled', 'failed'] })).toBe(2);
    expect(await tm.purge({ olderThan: clock.now })).toBe(3); // the new- terminal ones
    expect(tm.stats().purged).toBe(6);
  });

  it('removes at most limit per call across pages; a second call finishes', async () => {
    const { clock, tm } = setup();
    const n = PURGE_PAGE_SIZE * 2 + 10;
    for (let i = 0; i < n; i++) {
      await tm.submit({ id: `t${i}`, objective: 'x' });
      if (i % 3 !== 0) await tm.cancel(`t${i}`); // a third stays pending, spread across pages
    }
    const terminal = n - Math.ceil(n / 3);
    clock.now += 1;
    expect(await tm.purge({ olderThan: clock.now, limit: 50 })).toBe(50);
    expect(await tm.purge({ olderThan: clock.now, limit: 10_000 })).toBe(terminal - 50);
    expect(await tm.purge({ olderThan: clock.now })).toBe(0);
    expect(await tm.listPendingTasks()).toHaveLength(Math.ceil(n / 3));
  });

  it('refuses bad options; honours an aborted signal', async () => {
    const { tm } = setup();
    await tm.submit({ id: 'x', objective: 'x' });
    await tm.cancel('x');
    await expect(tm.purge({ olderThan: Number.NaN })).rejects.toBeInstanceOf(ValidationError);
    await expect(tm.purge({} as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(tm.purge({ olderThan: 2e6, states: ['pending' as never] })).rejects.toBeInstanceOf(ValidationError);
    await expect(tm.purge({ olderThan: 2e6, limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    const ac = new AbortController();
    ac.abort();
    await expect(tm.purge({ olderThan: 2e6, signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    expect((await tm.getTask('x')).state).toBe('cancelled');
    expect(tm.stats().purged).toBe(0);
  });
});
