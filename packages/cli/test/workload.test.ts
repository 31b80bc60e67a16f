// The Workload shared by `converge run` and its coordinator role: which ids it owns, how a
// finished task is judged (once), the window's credits, resuming from pages, and its summary.
import { describe, expect, it } from 'vitest';
import { createTask, type Task } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { PoolManager, TaskManager } from '@converge/coordination';
import { Workload } from '../src/workload/workload.js';
import { taskBody, taskId } from '../src/workload/plan.js';
import { expectedSum, type SumInputs } from '../src/workload/agents.js';

function finished(i: number, state: Task['state'], right = true): Task {
  const body = taskBody('p', i, 1_000, 0);
  const sum = expectedSum(body.inputs as unknown as SumInputs);
  return { ...createTask(body), state, result: state === 'completed' ? (right ? sum : sum + 1) : null };
}

const facts = {
  durationMs: 1_000,
  interrupted: false,
  messagesReceived: 0,
  rejectedMessages: 0,
  agents: 1,
  transport: 'local',
  store: 'memory',
  role: 'all' as const,
};

describe('Workload', () => {
  it('owns exactly its planned ids', () => {
    const w = new Workload({ poolId: 'p', total: 10, claimTtlMs: 1_000 });
    expect(w.owns(taskId('p', 0))).toBe(true);
    expect(w.owns(taskId('p', 9))).toBe(true);
    expect(w.owns(taskId('p', 10))).toBe(false);
    expect(w.owns(taskId('q', 1))).toBe(false);
    expect(w.owns('p:task:01')).toBe(false);
    expect(new Workload({ poolId: 'p', total: undefined, claimTtlMs: 1_000 }).owns(taskId('p', 123_456))).toBe(true);
  });

  it('judges a finished task once, checks its result, and returns one credit per task of this run', () => {
    let credits = 0;
    const w = new Workload({ poolId: 'p', total: 4, claimTtlMs: 1_000, onCredit: () => credits++ });
    expect(w.judge(finished(0, 'completed'), 10)).toBe(true);
    expect(w.judge(finished(0, 'completed'), 20)).toBe(false);
    expect(w.judge(finished(1, 'completed', false), null)).toBe(true);
    expect(w.judge(finished(2, 'pending'), null)).toBe(false);
    expect(w.judge(finished(3, 'failed'), null)).toBe(true);
    expect(credits).toBe(3);
    expect(w.completed).toBe(1);
    const s = w.summary(facts);
    expect(s).toMatchObject({ tasks: 4, completed: 1, failed: 1, wrong_results: 1, lost: 1 });
    expect(s.latency_ms.max).toBe(10);
  });

  it('resumes from the pool pages: tasks found count as existing and return no credit; only the workload ids of the pool', async () => {
    const store = new MemoryStore();
    const tm = new TaskManager({ store, pools: new PoolManager({ store }) });
    await Workload.preparePool(new PoolManager({ store }), 'p');
    await Workload.preparePool(new PoolManager({ store }), 'p'); // a second time: the pool is there
    for (const i of [0, 2]) await tm.submit(taskBody('p', i, 1_000));
    await tm.submit({ id: 'stranger', objective: 'x', poolId: 'p' });
    const lease = await tm.claim('w', taskId('p', 2), { capabilities: ['sum'] });
    await tm.report('w', taskId('p', 2), expectedSum((await tm.getTask(taskId('p', 2))).inputs as unknown as SumInputs), lease);
    let credits = 0;
    const w = new Workload({ poolId: 'p', total: 3, claimTtlMs: 1_000, onCredit: () => credits++ });
    await w.resume((cursor) => tm.listTasks({ poolId: 'p', limit: 1, ...(cursor ? { cursor } : {}) }));
    expect([...w.existing].sort()).toEqual([taskId('p', 0), taskId('p', 2)]);
    expect(w.finished).toBe(1);
    expect(credits).toBe(0);
    const c = w.coordinator({ assignment: 'claim', workers: () => [], stopped: () => false });
    expect(c.id).toMatch(/./);
    expect(w.accounted).toBe(2);
    expect(w.drained).toBe(false);
  });

  it('is drained as its last task settles, before the coordinator has seen its plan run out', () => {
    const seen: boolean[] = [];
    const w: Workload = new Workload({ poolId: 'p', total: 2, claimTtlMs: 1_000, onCredit: () => seen.push(w.drained) });
    const c = w.coordinator({ assignment: 'claim', workers: () => [], stopped: () => false, submitBatch: 2 });
    expect(c.decide([], []).filter((d) => d.type === 'SubmitTask')).toHaveLength(2);
    expect(c.exhausted).toBe(false);
    w.judge(finished(0, 'completed'), null);
    w.judge(finished(1, 'completed'), null);
    expect(seen).toEqual([false, true]);
  });
});
