// The example of README.md, kept runnable: if this fails, the README is wrong.
import { describe, expect, it } from 'vitest';
import { Agent, Decisions, type Decision, type Message, type Task } from '@converge/core';
import { DiscoveryService, LocalHub, LocalTransport } from '@converge/network';
import { PoolManager, TaskManager } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { ActionPolicy } from '@converge/policy';
import { AgentRuntime } from '@converge/runtime';
import { waitUntil } from './helpers.js';

class Coordinator extends Agent {
  done = new Map<string, number>();
  #submitted = false;
  decide(messages: readonly Message[]): Decision[] {
    for (const m of messages) {
      const { task, result } = m.payload as { task: string; result: number };
      this.done.set(task, result);
    }
    if (this.#submitted) return [];
    this.#submitted = true;
    return [1, 2, 3].map((n) => Decisions.submitTask({ id: `sq-${n}`, objective: 'square', inputs: { n }, poolId: 'pool-1' }));
  }
}

class Worker extends Agent {
  #joined = false;
  constructor(readonly coordinator: string) {
    super({ capabilities: ['square'] });
  }
  decide(_messages: readonly Message[], tasks: readonly Task[]): Decision[] {
    const out: Decision[] = this.#joined ? [] : [Decisions.joinPool('pool-1')];
    this.#joined = true;
    for (const t of tasks) {
      const n = (t.inputs as { n: number }).n;
      // If the claim is lost to another worker, the executor skips the rest for this task.
      out.push(
        Decisions.claimTask(t.id),
        Decisions.reportTask(t.id, n * n),
        Decisions.sendMessage(this.coordinator, { task: t.id, result: n * n }, { taskId: t.id }),
      );
    }
    return out;
  }
}

describe('the README example', () => {
  it('a coordinator and a worker on a LocalHub square three numbers', async () => {
    const store = new MemoryStore();
    const taskManager = new TaskManager({ store });
    const poolManager = new PoolManager({ store });
    await poolManager.createPool({ id: 'pool-1' });
    const hub = new LocalHub();
    const discovery = new DiscoveryService();
    const policy = new ActionPolicy({ allow: ['SubmitTask', 'JoinPool', 'ClaimTask', 'ReportTask', 'SendMessage'] });

    const coordinator = new Coordinator();
    const worker = new Worker(coordinator.id);
    const runtimes = [coordinator, worker].map(
      (agent) => new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub }), taskManager, poolManager, discovery, policy }),
    );
    for (const rt of runtimes) await rt.start();
    await waitUntil(() => coordinator.done.size === 3);
    expect(Object.fromEntries(coordinator.done)).toEqual({ 'sq-1': 1, 'sq-2': 4, 'sq-3': 9 });
    for (const rt of runtimes) await rt.stop();
    expect(await discovery.query()).toEqual([]);
  });
});
