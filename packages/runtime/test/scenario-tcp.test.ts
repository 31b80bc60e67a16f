import { describe, expect, it } from 'vitest';
import { IdentityRegistry, MessageVerifier } from '@converge/network';
import { TcpTransport } from '@converge/transport-tcp';
import { AgentRuntime } from '@converge/runtime';
import { SquareWorker, SubmitterAgent, waitUntil, stoppedAfterEach } from './helpers.js';
import { poolStack } from './pool-stack.js';

const running = stoppedAfterEach<AgentRuntime>();

describe('a coordinator and four workers, each on its own TCP socket, identity verification on', () => {
  it('completes 5,000 tasks, each exactly once, even when a worker crashes holding claims', async () => {
    const { taskManager, poolManager } = await poolStack();
    const registry = new IdentityRegistry();
    const completions = new Map<string, number>();
    taskManager.on('completed', (t) => completions.set(t.id, (completions.get(t.id) ?? 0) + 1));
    const coordinator = new SubmitterAgent('pool-1', 5_000);
    const done = new Set<string>();
    const decide = coordinator.decide.bind(coordinator);
    coordinator.decide = (messages) => {
      for (const m of messages) done.add(String((m.payload as { done: string }).done));
      return decide(messages);
    };
    const workers = [0, 1, 2, 3].map((i) => new SquareWorker('pool-1', { notify: coordinator.id, holdClaims: i === 0, maxPerTurn: 32 }));
    const agents = [coordinator, ...workers];
    const transports = agents.map((a) => new TcpTransport({ host: '127.0.0.1', port: 0, agentId: a.id }));
    const runtimes = agents.map((agent, i) => {
      registry.register(agent.identity);
      const rt = new AgentRuntime({
        agent,
        transport: transports[i]!,
        taskManager,
        poolManager,
        verifier: new MessageVerifier({ registry }),
        sweepIntervalMs: 50,
      });
      running.push(rt);
      return rt;
    });
    // Every agent learns every other agent's address (discovery would supply these).
    for (const t of transports) await t.start();
    for (const t of transports) for (let j = 0; j < agents.length; j++) t.addPeer(agents[j]!.id, transports[j]!.address);
    for (const rt of runtimes) await rt.start();

    await waitUntil(() => runtimes[1]!.leases.size > 0 && completions.size > 500);
    const heldAtCrash = [...runtimes[1]!.leases.keys()];
    runtimes[1]!.halt();
    expect(heldAtCrash.length).toBeGreaterThan(0);

    await waitUntil(() => completions.size === 5_000, 60_000);
    for (let i = 0; i < 5_000; i++) expect(completions.get(`t-${i}`), `t-${i}`).toBe(1);
    for (const id of heldAtCrash) expect((await taskManager.getTask(id)).state).toBe('completed');
    // The workers' signed "done" messages crossed real sockets and passed verification.
    await waitUntil(() => done.size >= 5_000 - heldAtCrash.length, 20_000);
    expect(runtimes[0]!.rejectedMessages).toBe(0);
  });
});
