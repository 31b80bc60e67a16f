// TaskManager.listTasks (cursor pages of one pool, bounded per page) and watchPool (bounded
// async iterable of this manager's transitions).
import { describe, expect, it } from 'vitest';
import { QueueFullError, ValidationError, type Store } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { MAX_PAGE_LIMIT, TASK_KEYS, TaskManager, type TaskRecord } from '../src/index.js';

/** A MemoryStore that counts the keys its listings return and the records read. */
function countingStore() {
  const store = new MemoryStore();
  const seen = { listedKeys: 0, recordReads: 0 };
  const list = store.list.bind(store);
  const get = store.get.bind(store);
  store.list = async (prefix, options) => {
    const keys = await list(prefix, options);
    seen.listedKeys += keys.length;
    return keys;
  };
  store.get = (async (key: string, options?: { signal?: AbortSignal }) => {
    if (key.startsWith(TASK_KEYS.record)) seen.recordReads++;
    return get(key, options);
  }) as Store['get'];
  return { store, seen };
}

function setup(store: Store = new MemoryStore()) {
  const clock = { now: 1_000_000 };
  const tm = new TaskManager({ store, clock: () => clock.now, pools: null });
  return { store, clock, tm };
}

async function allPages(tm: TaskManager, options: { poolId: string | null; state?: TaskRecord['state']; limit: number }): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await tm.listTasks({ ...options, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...page.tasks.map((t) => t.id));
    if (page.cursor === null) return ids;
    cursor = page.cursor;
  }
  throw new Error('the listing never ended');
}

describe('TaskManager.listTasks', () => {
  it('pages through every task of one pool exactly once, in submit order, and of no other pool', async () => {
    const { clock, tm } = setup();
    const a: string[] = [];
    for (let i = 0; i < 250; i++) {
      if (i % 40 === 0) clock.now += 1_000; // several submit seconds (buckets)
      const id = `t:${String(i).padStart(3, '0')}`;
      await tm.submit({ id, objective: 'x', poolId: i % 5 === 0 ? 'b' : 'a' });
      if (i % 5 !== 0) a.push(id);
    }
    await tm.submit({ id: 'loose', objective: 'x', poolId: null });
    expect(await allPages(tm, { poolId: 'a', limit: 7 })).toEqual(a);
    expect(await allPages(tm, { poolId: 'b', limit: 1_000 })).toHaveLength(50);
    expect(await allPages(tm, { poolId: null, limit: 10 })).toEqual(['loose']);
    expect(await allPages(tm, { poolId: 'nobody', limit: 10 })).toEqual([]);
  });

  it('a failed directory write fails the submit and is written again by the next submit of that second', async () => {
    const store = new MemoryStore();
    const put = store.put.bind(store);
    let failDir = 1;
    store.put = async (key, value, options) => {
      if (key.startsWith(TASK_KEYS.poolBuckets) && failDir-- > 0) throw new Error('directory write failed');
      return put(key, value, options);
    };
    const { tm } = setup(store);
    await expect(tm.submit({ id: 'first', objective: 'x', poolId: 'p' })).rejects.toThrow('directory write failed');
    await tm.submit({ id: 'second', objective: 'x', poolId: 'p' });
    expect(await allPages(tm, { poolId: 'p', limit: 10 })).toEqual(['second']);
  });

  it('filters by state, reading the records afresh', async () => {
    const { tm } = setup();
    for (let i = 0; i < 20; i++) await tm.submit({ id: `t${i}`, objective: 'x', poolId: 'p' });
    for (const id of ['t3', 't7']) await tm.report('w', id, 1, await tm.claim('w', id));
    await tm.claim('w', 't9');
    expect(await allPages(tm, { poolId: 'p', state: 'completed', limit: 5 })).toEqual(['t3', 't7']);
    expect(await allPages(tm, { poolId: 'p', state: 'assigned', limit: 5 })).toEqual(['t9']);
    expect(await allPages(tm, { poolId: 'p', state: 'pending', limit: 5 })).toHaveLength(17);
  });

  it('costs a page what the page needs, not what the store holds', async () => {
    const { store, seen } = countingStore();
    const { clock, tm } = setup(store);
    for (let i = 0; i < 2_000; i++) {
      if (i % 100 === 0) clock.now += 1_000; // 20 buckets of 100
      await tm.submit({ id: `t${String(i).padStart(4, '0')}`, objective: 'x', poolId: i % 2 === 0 ? 'p' : 'q' });
    }
    seen.listedKeys = 0;
    seen.recordReads = 0;
    const first = await tm.listTasks({ poolId: 'p', limit: 10 });
    expect(first.tasks).toHaveLength(10);
    expect(seen.recordReads).toBe(10);
    // The bucket directory (20 keys) and one bucket (50 of p's tasks): far from 2,000 keys.
    expect(seen.listedKeys).toBeLessThanOrEqual(20 + 50);
    seen.listedKeys = 0;
    const later = await tm.listTasks({ poolId: 'p', limit: 10, cursor: first.cursor! });
    expect(later.tasks[0]!.id).toBe('t0020');
    expect(seen.listedKeys).toBeLessThanOrEqual(20 + 50);
  });

  it('drops a purged task from the pages and its entry from the store', async () => {
    const { store, clock, tm } = setup();
    await tm.submit({ id: 'gone', objective: 'x', poolId: 'p' });
    await tm.submit({ id: 'kept', objective: 'x', poolId: 'p' });
    await tm.cancel('gone');
    clock.now += 10;
    expect(await tm.purge({ olderThan: clock.now })).toBe(1);
    expect(await allPages(tm, { poolId: 'p', limit: 10 })).toEqual(['kept']);
    expect((await store.list(TASK_KEYS.pool)).filter((k) => k.includes('gone'))).toEqual([]);
  });

  it('skips an entry whose record was never written, and removes it once past the grace time', async () => {
    const { store, clock, tm } = setup();
    await tm.submit({ id: 'real', objective: 'x', poolId: 'p' });
    const [entry] = await store.list(TASK_KEYS.pool);
    await store.put(entry!.replace('real', 'ghost'), clock.now);
    expect(await allPages(tm, { poolId: 'p', limit: 10 })).toEqual(['real']);
    expect(await store.list(TASK_KEYS.pool)).toHaveLength(2); // in flight, perhaps: kept
    clock.now += 120_000;
    expect(await allPages(tm, { poolId: 'p', limit: 10 })).toEqual(['real']);
    expect(await store.list(TASK_KEYS.pool)).toEqual([entry]);
  });

  it('refuses bad options with ValidationError', async () => {
    const { tm } = setup();
    await expect(tm.listTasks({ poolId: '' })).rejects.toBeInstanceOf(ValidationError);
    await expect(tm.listTasks({ poolId: 'p', limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(tm.listTasks({ poolId: 'p', limit: MAX_PAGE_LIMIT + 1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(tm.listTasks({ poolId: 'p', cursor: 'no-colon' })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('TaskManager.watchPool', () => {
  it("reports one pool's transitions in order, and ends on abort", async () => {
    const { tm } = setup();
    const ac = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of tm.watchPool('p', { signal: ac.signal })) {
        seen.push(`${e.taskId}:${e.state}:${e.attempt}`);
        if (e.state === 'completed') ac.abort();
      }
    })();
    await tm.submit({ id: 'other', objective: 'x', poolId: 'q' });
    await tm.submit({ id: 't', objective: 'x', poolId: 'p' });
    const lease = await tm.claim('w', 't');
    await tm.start('w', 't', lease);
    await tm.report('w', 't', 1, lease);
    await done;
    expect(seen).toEqual(['t:pending:0', 't:assigned:1', 't:running:1', 't:completed:1']);
  });

  it('fails with QueueFullError when the consumer falls more than bufferSize events behind', async () => {
    const { tm } = setup();
    const it = tm.watchPool('p', { bufferSize: 2 })[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) await tm.submit({ id: `t${i}`, objective: 'x', poolId: 'p' });
    await expect(it.next()).rejects.toBeInstanceOf(QueueFullError);
  });

  it('ends every watch on stop(), and emits nothing more after the last watch closed', async () => {
    const { tm } = setup();
    const got: string[] = [];
    const done = (async () => {
      for await (const e of tm.watchPool(undefined)) got.push(e.taskId);
    })();
    await tm.submit({ id: 'a', objective: 'x', poolId: 'p' });
    await tm.submit({ id: 'b', objective: 'x', poolId: null });
    tm.stop();
    await done;
    expect(got).toEqual(['a', 'b']);
    expect(() => tm.watchPool('')).toThrow(ValidationError);
  });
});
