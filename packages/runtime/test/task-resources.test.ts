// A task's `cpu` / `memory_mb` constraints are checked against the agent's ResourceLimits
// before the executor submits or claims it: a task the agent cannot hold comes back as a
// `refused` outcome, and is never submitted, claimed or run.
import { describe, expect, it } from 'vitest';
import { Agent, Decisions, Identity, type DecideContext, type Decision, type Message, type Task } from '@converge/core';
import { TaskManager } from '@converge/coordination';
import { ResourceLimits } from '@converge/policy';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentRuntime, StandardExecutor } from '@converge/runtime';
import { waitUntil, stoppedAfterEach } from './helpers.js';

const running = stoppedAfterEach<AgentRuntime>();

/** Claims every task on offer and "runs" it (counts it) once the claim's outcome is ok. */
class Claimer extends Agent {
  readonly contexts: DecideContext[] = [];
  readonly ran: string[] = [];
  readonly asked = new Set<string>();
  constructor(readonly first: Decision[] = []) {
    super({ identity: Identity.generate() });
  }
  decide(_m: readonly Message[], tasks: readonly Task[], context: DecideContext): Decision[] {
    this.contexts.push(context);
    const out: Decision[] = this.contexts.length === 1 ? [...this.first] : [];
    for (const o of context.outcomes) {
      if (o.decision.type === 'ClaimTask' && o.status === 'ok') {
        const id = (o.decision as { taskId: string }).taskId;
        this.ran.push(id);
        out.push(Decisions.reportTask(id, 'done'));
      }
    }
    for (const t of tasks) {
      if (this.asked.has(t.id)) continue;
      this.asked.add(t.id);
      out.push(Decisions.claimTask(t.id));
    }
    return out;
  }
  outcomes() {
    return this.contexts.flatMap((c) => c.outcomes);
  }
}

async function setup(agent: Agent) {
  const taskManager = new TaskManager({ store: new MemoryStore() });
  const limits = new ResourceLimits({ maxTaskCpu: 2, maxTaskMemoryMb: 1024 });
  const rt = new AgentRuntime({ agent, taskManager, limits, tickIntervalMs: 50, sweepIntervalMs: 0 });
  running.push(rt);
  return { taskManager, limits, rt };
}

describe('task resource constraints against ResourceLimits', () => {
  it('a SubmitTask asking for more cpu than the agent has is refused, and nothing is submitted', async () => {
    const agent = new Claimer([
      Decisions.submitTask({ id: 'big', objective: 'render', constraints: { cpu: 8 } }),
      Decisions.submitTask({ id: 'small', objective: 'render', constraints: { cpu: 1, memory_mb: 256 } }),
    ]);
    const { taskManager, limits, rt } = await setup(agent);
    await rt.start();
    await waitUntil(() => agent.outcomes().filter((o) => o.decision.type === 'SubmitTask').length === 2, 10_000);
    const submits = agent.outcomes().filter((o) => o.decision.type === 'SubmitTask');
    expect(submits.map((o) => o.status)).toEqual(['refused', 'ok']);
    expect(submits[0]!.error).toMatchObject({ name: 'TaskResourcesError', code: 'ERR_LIMIT_EXCEEDED' });
    expect(submits[0]!.error!.message).toContain('cpu=8');
    await expect(taskManager.getTask('big')).rejects.toThrow(/not found|no task/i);
    expect((await taskManager.getTask('small')).id).toBe('small');
    expect(limits.stats().taskRefusals).toBe(1);
  });

  it('a ClaimTask on a task asking for more memory than the agent has is refused: not claimed, not run', async () => {
    const agent = new Claimer();
    const { taskManager, rt } = await setup(agent);
    await taskManager.submit({ id: 'huge', objective: 'index', constraints: { memory_mb: 64_000 } });
    await taskManager.submit({ id: 'fits', objective: 'index', constraints: { memory_mb: 512, cpu: 2 } });
    await rt.start();
    await waitUntil(async () => (await taskManager.getTask('fits')).state === 'completed', 10_000);
    await waitUntil(() => agent.outcomes().some((o) => o.decision.type === 'ClaimTask' && (o.decision as { taskId: string }).taskId === 'huge'), 10_000);
    const huge = agent.outcomes().find((o) => o.decision.type === 'ClaimTask' && (o.decision as { taskId: string }).taskId === 'huge')!;
    expect(huge.status).toBe('refused');
    expect(huge.error).toMatchObject({ name: 'TaskResourcesError' });
    expect(agent.ran).toEqual(['fits']);
    const record = await taskManager.getTask('huge');
    expect(record.state).toBe('pending');
    expect(record.attempts).toBe(0);
    expect(record.assignedTo).toBeNull();
  });

  it('a malformed constraint is a failed outcome (ValidationError), not a crash', async () => {
    const agent = new Claimer([Decisions.submitTask({ objective: 'x', constraints: { cpu: 'all of them' } })]);
    const { rt } = await setup(agent);
    await rt.start();
    await waitUntil(() => agent.outcomes().length > 0, 10_000);
    expect(agent.outcomes()[0]).toMatchObject({ status: 'failed', error: { name: 'ValidationError', code: 'ERR_VALIDATION' } });
    expect(rt.isHealthy()).toBe(true);
  });

  it('refuses a claim it cannot check (a task manager without getTask): fail closed', async () => {
    const taskManager = new TaskManager({ store: new MemoryStore() });
    await taskManager.submit({ id: 't', objective: 'x' });
    const { getTask: _omit, ...withoutGetTask } = {
      getTask: undefined,
      submit: taskManager.submit.bind(taskManager),
      claim: taskManager.claim.bind(taskManager),
      extendClaim: taskManager.extendClaim.bind(taskManager),
      report: taskManager.report.bind(taskManager),
      fail: taskManager.fail.bind(taskManager),
      cancel: taskManager.cancel.bind(taskManager),
      releaseExpiredClaims: taskManager.releaseExpiredClaims.bind(taskManager),
      listPendingTasksForAgent: taskManager.listPendingTasksForAgent.bind(taskManager),
    };
    const executor = new StandardExecutor({ taskManager: withoutGetTask, limits: new ResourceLimits() });
    const id = Identity.generate();
    const [r] = await executor.execute([Decisions.claimTask('t')], { agentId: id.fingerprint, identity: id, leases: new Map() });
    expect(r).toMatchObject({ ok: false, outcome: 'refused' });
    expect((await taskManager.getTask('t')).state).toBe('pending');
  });
});
