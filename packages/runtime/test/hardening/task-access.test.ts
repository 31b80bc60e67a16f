// Issue 21 M1/M2/L6 through an agent's decisions: the StandardExecutor passes the deciding agent
// (and its capabilities) to the TaskManager, whose access checks refuse what the agent may not
// do, as a counted `refused` outcome (never a crash, never done silently).
import { describe, expect, it } from 'vitest';
import { ConflictError, Decisions, Identity, NotFoundError, PolicyError } from '@converge/core';
import { PoolManager, TaskManager } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import type { TaskLease } from '@converge/core';
import { StandardExecutor, type ExecutionContext } from '@converge/runtime';

function setup() {
  const store = new MemoryStore();
  const taskManager = new TaskManager({ store });
  const poolManager = new PoolManager({ store });
  const executor = new StandardExecutor({ taskManager, poolManager });
  const ctx = (id: Identity, capabilities?: string[]): ExecutionContext => ({
    agentId: id.fingerprint,
    identity: id,
    capabilities,
    leases: new Map<string, TaskLease>(),
  });
  return { taskManager, poolManager, executor, ctx, alice: Identity.generate(), bob: Identity.generate(), mallory: Identity.generate() };
}

const outcomes = (results: { ok: boolean; outcome?: string }[]) => results.map((r) => (r.ok ? 'ok' : r.outcome));

describe('task access through decisions', () => {
  it('CancelTask by an agent that neither submitted the task nor owns its pool is refused (M1)', async () => {
    const s = setup();
    const [created, submitted] = await s.executor.execute(
      [Decisions.createPool({ id: 'p', owner: 'someone-else' }), Decisions.submitTask({ id: 't', objective: 'x', poolId: 'p' })],
      s.ctx(s.alice),
    );
    expect([created!.ok, submitted!.ok]).toEqual([true, true]);
    // The creator owns the pool whatever owner the decision named; the submitter is recorded.
    expect((await s.poolManager.getPool('p')).owner).toBe(s.alice.fingerprint);
    expect((await s.taskManager.getTask('t')).submittedBy).toBe(s.alice.fingerprint);
    const [join, claim] = await s.executor.execute([Decisions.joinPool('p'), Decisions.claimTask('t')], s.ctx(s.bob));
    expect([join!.ok, claim!.ok]).toEqual([true, true]);
    const [cancel] = await s.executor.execute([Decisions.cancelTask('t')], s.ctx(s.mallory));
    expect(outcomes([cancel!])).toEqual(['refused']);
    expect((cancel as { error: Error }).error).toBeInstanceOf(PolicyError);
    expect((await s.taskManager.getTask('t')).state).toBe('assigned');
    expect(s.executor.stats()).toMatchObject({ 'CancelTask:refused': 1 });
    const [own] = await s.executor.execute([Decisions.cancelTask('t')], s.ctx(s.alice));
    expect(own!.ok).toBe(true);
  });

  it('SubmitTask and ClaimTask check membership, capabilities and the pool (M2)', async () => {
    const s = setup();
    await s.poolManager.createPool({ id: 'closed', admission: { type: 'whitelist', agents: [s.alice.fingerprint] } });
    await s.poolManager.joinPool(s.alice.fingerprint, 'closed');
    const [join, submit, ghost] = await s.executor.execute(
      [
        Decisions.joinPool('closed'),
        Decisions.submitTask({ id: 'm', objective: 'x', poolId: 'closed' }),
        Decisions.submitTask({ id: 'g', objective: 'x', poolId: 'ghost' }),
      ],
      s.ctx(s.mallory),
    );
    expect(outcomes([join!, submit!, ghost!])).toEqual(['refused', 'refused', 'error']);
    expect((ghost as { error: Error }).error).toBeInstanceOf(NotFoundError);
    await s.taskManager.submit({ id: 'gpu', objective: 'x', poolId: 'closed', requiredCapabilities: ['gpu'] });
    const [byMallory] = await s.executor.execute([Decisions.claimTask('gpu')], s.ctx(s.mallory, ['gpu']));
    const [noGpu] = await s.executor.execute([Decisions.claimTask('gpu')], s.ctx(s.alice, ['cpu']));
    expect(outcomes([byMallory!, noGpu!])).toEqual(['refused', 'refused']);
    const [won] = await s.executor.execute([Decisions.claimTask('gpu')], s.ctx(s.alice, ['gpu']));
    expect(won!.ok).toBe(true);
  });

  it('ReportTask without a held claim is a conflict, never a report (L6)', async () => {
    const s = setup();
    await s.taskManager.submit({ id: 't', objective: 'x' });
    await s.taskManager.claim(s.alice.fingerprint, 't');
    // Alice holds the task, but this runtime context has no lease for it (another worker's claim).
    const [report] = await s.executor.execute([Decisions.reportTask('t', 1)], s.ctx(s.alice));
    expect(outcomes([report!])).toEqual(['conflict']);
    expect((report as { error: Error }).error).toBeInstanceOf(ConflictError);
    expect((await s.taskManager.getTask('t')).state).toBe('assigned');
  });
});
