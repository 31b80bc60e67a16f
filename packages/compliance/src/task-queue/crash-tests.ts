// A worker process SIGKILLed while it holds claims: once its leases ran out, its tasks are
// redone exactly once each, and no task is done twice.
import { setTimeout as delay } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { TaskLease, TaskQueue } from '@converge/core';
import type { ChildQueueFactory, TaskQueueComplianceOptions } from './fixture.js';
import { submitMany, useSuiteContext } from './context.js';
import { startHoldingChild } from './child-process.js';

/** The child entry next to this file (`.ts` when run from source, `.js` once built). */
function childEntry(): string {
  const ts = fileURLToPath(new URL('./child.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('./child.js', import.meta.url));
}

/** Starts the child; resolves once it printed its leases, with them and a kill function. */
async function startChild(factory: ChildQueueFactory, count: number): Promise<{ leases: TaskLease[]; kill: () => Promise<void> }> {
  const execArgv = factory.execArgv ?? ['--import', 'tsx', '--conditions=@converge/source'];
  const args = [...execArgv, childEntry(), factory.module, JSON.stringify(factory.options), 'p', String(count), 'doomed'];
  const { value, kill } = await startHoldingChild<{ leases: TaskLease[] }>(args);
  return { leases: value.leases, kill };
}

/** Claims and reports until nothing is claimable; returns the ids completed. */
async function drain(queue: TaskQueue, agentId: string): Promise<string[]> {
  const done: string[] = [];
  for (let got = await queue.claim({ agentId, poolId: 'p', max: 4 }); got.length > 0; got = await queue.claim({ agentId, poolId: 'p', max: 4 })) {
    for (const { lease } of got) {
      await queue.report(lease, agentId);
      done.push(lease.taskId);
    }
  }
  return done;
}

/** Registers the SIGKILL test (real clock: the child has its own). */
export function crashTests(options: TaskQueueComplianceOptions): void {
  const ctx = useSuiteContext(options, true);

  it('a child SIGKILLed while holding claims: its tasks are redone once each, none twice', async () => {
    const { queue, fixture, open } = ctx();
    if (!fixture.child) throw new Error(`${options.name}: the fixture gives no child factory, so the SIGKILL test cannot run`);
    const total = 40;
    const held = 10;
    // A short lease for every task, so the dead child's claims run out soon.
    await submitMany(queue, total, 'p', 't', { constraints: { claimTtlMs: 1_500 } });
    const child = await startChild(fixture.child, held);
    expect(child.leases).toHaveLength(held);
    await child.kill();
    const workers = await Promise.all([queue, await open(), await open()].map(async (q, i) => ({ q, i })));
    const first = (await Promise.all(workers.map(({ q, i }) => drain(q, `live${i}`)))).flat();
    expect(first).toHaveLength(total - held);
    const latest = Math.max(...child.leases.map((l) => l.expiresAt));
    await delay(Math.max(0, latest - Date.now()) + 20);
    const released = await queue.expire();
    expect(released.map((r) => r.taskId).sort()).toEqual(child.leases.map((l) => l.taskId).sort());
    expect(released.every((r) => r.outcome === 'pending' && r.agentId === 'doomed' && r.attempt === 1)).toBe(true);
    const second = (await Promise.all(workers.map(({ q, i }) => drain(q, `live${i}`)))).flat();
    expect(second.sort()).toEqual(child.leases.map((l) => l.taskId).sort());
    const all = [...first, ...second];
    expect(new Set(all).size).toBe(total);
    for (const l of child.leases) expect(await queue.get(l.taskId)).toMatchObject({ state: 'completed', attempts: 2, failures: 1 });
    for (const id of first) expect((await queue.get(id)).attempts).toBe(1);
  });
}
