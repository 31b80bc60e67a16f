import { describe, expect, it } from 'vitest';
import { Identity } from '@converge/core';
import { IdentityRegistry, LocalHub, LocalTransport, MessageVerifier } from '@converge/network';
import { AgentRuntime } from '@converge/runtime';
import { SquareWorker, SubmitterAgent, waitUntil, stoppedAfterEach } from './helpers.js';
import { poolStack } from './pool-stack.js';

const running = stoppedAfterEach<AgentRuntime>();

async function stack(total: number) {
  const { store, taskManager, poolManager } = await poolStack();
  const hub = new LocalHub();
  const registry = new IdentityRegistry();
  const completions = new Map<string, number>();
  taskManager.on('completed', (t) => completions.set(t.id, (completions.get(t.id) ?? 0) + 1));
  const coordinator = new SubmitterAgent('pool-1', total);
  const run = (agent: SubmitterAgent | SquareWorker, extra: Partial<ConstructorParameters<typeof AgentRuntime>[0]> = {}) => {
    registry.register(agent.identity);
    const rt = new AgentRuntime({
      agent,
      transport: new LocalTransport(agent.id, { hub }),
      taskManager,
      poolManager,
      verifier: new MessageVerifier({ registry }),
      sweepIntervalMs: 50,
      ...extra,
    });
    running.push(rt);
    return rt;
  };
  return { store, taskManager, hub, registry, completions, coordinator, run };
}

describe('a coordinator and four workers on a LocalHub, identity verification on', () => {
  it('completes 5,000 tasks, each exactly once, even when a worker crashes holding claims', async () => {
    const s = await stack(5_000);
    const doneMessages: string[] = [];
    const coordinatorRt = s.run(s.coordinator);
    const workers = [0, 1, 2, 3].map((i) => new SquareWorker('pool-1', { notify: s.coordinator.id, holdClaims: i === 0, maxPerTurn: 32 }));
    const workerRts = workers.map((w) => s.run(w));
    const originalDecide = s.coordinator.decide.bind(s.coordinator);
    s.coordinator.decide = (messages) => {
      for (const m of messages) doneMessages.push(String((m.payload as { done: string }).done));
      return originalDecide(messages);
    };
    await coordinatorRt.start();
    await Promise.all(workerRts.map((r) => r.start()));

    // Worker 0 hangs on what it claims; then it crashes (no stop(): its claims stay held
    // until their leases expire, and its heartbeats stop with it).
    await waitUntil(() => workerRts[0]!.leases.size > 0 && s.completions.size > 500);
    const heldAtCrash = [...workerRts[0]!.leases.keys()];
    workerRts[0]!.halt();
    expect(heldAtCrash.length).toBeGreaterThan(0);

    await waitUntil(() => s.completions.size === 5_000, 60_000);
    for (let i = 0; i < 5_000; i++) expect(s.completions.get(`t-${i}`), `t-${i}`).toBe(1);
    for (const id of heldAtCrash) {
      const t = await s.taskManager.getTask(id);
      expect(t.state).toBe('completed');
      expect(t.assignedTo).not.toBe(workers[0]!.id);
      expect(t.result).toBe((t.inputs as { n: number }).n ** 2);
    }
    // Every "done" message reached the coordinator through verification.
    await waitUntil(() => new Set(doneMessages).size >= 5_000 - heldAtCrash.length);
    expect(s.taskManager.stats().completed).toBe(5_000);
  });

  it('keeps running when decide throws on every tenth call', async () => {
    const s = await stack(300);
    const flaky = new SquareWorker('pool-1', { throwEvery: 10, maxPerTurn: 4 });
    await s.run(s.coordinator).start();
    const rt = s.run(flaky);
    await rt.start();
    await waitUntil(() => s.completions.size === 300);
    expect(flaky.calls).toBeGreaterThanOrEqual(10);
    expect(rt.isHealthy()).toBe(true);
  });

  it('rejects messages from senders the registry does not know', async () => {
    const s = await stack(0);
    const worker = new SquareWorker('pool-1');
    const rt = s.run(worker);
    await rt.start();
    const stranger = Identity.generate();
    const { createMessage, signMessage } = await import('@converge/core');
    const strangerTransport = new LocalTransport(stranger.fingerprint, { hub: s.hub });
    await strangerTransport.start();
    await strangerTransport.send(signMessage(createMessage({ recipient: worker.id, payload: { hi: 1 } }), stranger));
    await waitUntil(() => rt.rejectedMessages > 0);
    expect(rt.inbox.size).toBe(0);
    await strangerTransport.stop();
  });
});
