// Many clients at once: exactly-once under 8 concurrent claimers, waiting claims woken by a
// submit, paging through `list`, and the `watch` feed.
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AbortError, type TaskQueue, type TaskQueueEvent } from '@converge/core';
import type { TaskQueueComplianceOptions } from './fixture.js';
import { submitMany, useSuiteContext, type SuiteContext } from './context.js';

/** Claims and reports until the pool is empty; returns the ids this worker completed. */
async function drain(queue: TaskQueue, agentId: string, max: number): Promise<string[]> {
  const done: string[] = [];
  for (;;) {
    const got = await queue.claim({ agentId, poolId: 'p', max });
    if (got.length === 0) return done;
    for (const { lease } of got) {
      await queue.report(lease, agentId);
      done.push(lease.taskId);
    }
  }
}

/** Registers the multi-client tests. */
export function concurrencyTests(options: TaskQueueComplianceOptions): void {
  const ctx = useSuiteContext(options);
  const total = options.concurrentTasks ?? 200;

  claimerTests(ctx, total);

  describe('list', () => listTests(ctx));

  describe('watch', () => watchTests(ctx));
}

/** Claims from many clients: exactly once under 8 concurrent claimers, and waiting claims. */
function claimerTests(ctx: () => SuiteContext, total: number): void {
  it(`8 concurrent claimers on 8 clients complete ${total} tasks exactly once`, async () => {
    const { queue, open } = ctx();
    await submitMany(queue, total);
    const clients = await Promise.all(Array.from({ length: 8 }, () => open()));
    const results = await Promise.all(clients.map((q, i) => drain(q, `w${i}`, 1 + (i % 4))));
    const all = results.flat();
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
    let cursor: string | null | undefined;
    const completed: string[] = [];
    do {
      const page = await queue.list({ state: 'completed', limit: 100, cursor: cursor ?? undefined });
      for (const t of page.tasks) {
        expect(t.attempts).toBe(1);
        completed.push(t.id);
      }
      cursor = page.cursor;
    } while (cursor !== null);
    expect(completed).toHaveLength(total);
  });

  it('a waiting claim is woken by a submit from another client; an aborted one rejects AbortError', async () => {
    const { queue, open } = ctx();
    const other = await open();
    const waiting = queue.claim({ agentId: 'a', poolId: 'p', waitMs: 20_000 });
    await delay(50);
    await other.submit({ id: 'w1', objective: 'o', poolId: 'p' });
    expect((await waiting).map((c) => c.task.id)).toEqual(['w1']);
    expect(await queue.claim({ agentId: 'a', poolId: 'p', waitMs: 1 })).toEqual([]);
    const ac = new AbortController();
    const aborted = queue.claim({ agentId: 'a', poolId: 'p', waitMs: 20_000 }, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
  });
}

/** List: pages in id order with a cursor, filtered by state and pool. */
function listTests(ctx: () => SuiteContext): void {
  it('pages in id order with a cursor, filtered by state and pool', async () => {
    const { queue } = ctx();
    await submitMany(queue, 25);
    await submitMany(queue, 3, 'q', 'u');
    await queue.cancel('t00003');
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const p = await queue.list({ limit: 10, cursor, poolId: 'p' });
      seen.push(...p.tasks.map((t) => t.id));
      if (p.cursor === null) break;
      cursor = p.cursor;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `t${String(i).padStart(5, '0')}`));
    expect((await queue.list({ state: 'cancelled' })).tasks.map((t) => t.id)).toEqual(['t00003']);
    expect((await queue.list({ poolId: 'q' })).tasks.map((t) => t.id)).toEqual(['u00000', 'u00001', 'u00002']);
    expect((await queue.list({ state: 'pending', poolId: 'p', limit: 1000 })).tasks).toHaveLength(24);
  });
}

/** Watch: each transition of the pool, in order, until aborted. */
function watchTests(ctx: () => SuiteContext): void {
  it('reports each transition in order until aborted', async () => {
    const { queue } = ctx();
    const ac = new AbortController();
    const seen: TaskQueueEvent[] = [];
    const reading = (async () => {
      for await (const e of queue.watch({ signal: ac.signal, poolId: 'p' })) {
        seen.push(e);
        if (e.state === 'completed') ac.abort();
      }
    })();
    await delay(50);
    await queue.submit({ id: 'other-pool', objective: 'o', poolId: 'q' });
    await queue.submit({ id: 'wt', objective: 'o', poolId: 'p' });
    const [{ lease }] = await queue.claim({ agentId: 'a', poolId: 'p' });
    await queue.report(lease!, 1);
    await reading;
    expect(seen.map((e) => [e.taskId, e.state, e.attempt])).toEqual([
      ['wt', 'pending', 0],
      ['wt', 'assigned', 1],
      ['wt', 'completed', 1],
    ]);
  });
}
