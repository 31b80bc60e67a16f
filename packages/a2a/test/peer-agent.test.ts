// A remote A2A agent (official SDK server) working in a Converge pool through A2APeerAgent:
// it claims the pool's tasks that need its skills, delegates them over A2A, and reports the
// results; a remote failure fails the task (dead-lettered here, no retries).
import { afterEach, describe, expect, it } from 'vitest';
import { Identity, ToolRegistry } from '@converge/core';
import { PoolManager, TaskManager } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentRuntime } from '@converge/runtime';
import { A2APeerAgent, connectA2AAgent } from '@converge/a2a';
import { startSdkAgent, type SdkAgent } from './support/sdk-server.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function peerIn(sdk: SdkAgent): Promise<{ tasks: TaskManager; poolId: string }> {
  const store = new MemoryStore();
  const tasks = new TaskManager({ store });
  const pools = new PoolManager({ store });
  const poolId = 'with-a2a-peer';
  await pools.createPool({ id: poolId });
  const peer = new A2APeerAgent({ identity: Identity.generate(), remote: await connectA2AAgent(sdk.url), toolName: 'a2a/sdk' });
  await pools.joinPool(peer.id, poolId);
  const rt = new AgentRuntime({
    agent: peer,
    taskManager: tasks,
    poolManager: pools,
    tickIntervalMs: 50,
    sweepIntervalMs: 0,
    executorOptions: { tools: new ToolRegistry([peer.tool()]), toolAllowlist: [peer.toolName] },
  });
  await rt.start();
  cleanups.push(
    () => rt.stop(),
    () => sdk.close(),
  );
  return { tasks, poolId };
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
}

describe('A2APeerAgent: a remote A2A agent as a worker of a pool', () => {
  it('claims a task needing one of its skills, delegates it over A2A and reports the result', async () => {
    const sdk = await startSdkAgent();
    const { tasks, poolId } = await peerIn(sdk);
    await tasks.submit({ id: 't-sum', objective: 'add', inputs: { numbers: [4, 5, 6] }, poolId, requiredCapabilities: ['sum'] });
    await tasks.submit({ id: 't-other', objective: 'translate', inputs: {}, poolId, requiredCapabilities: ['translate'] });
    await until(async () => (await tasks.getTask('t-sum')).state === 'completed');
    const done = await tasks.getTask('t-sum');
    expect(done.result).toBe(15);
    expect(sdk.executed).toHaveLength(1);
    // A task needing a skill the remote lacks is never offered to it.
    expect((await tasks.getTask('t-other')).state).toBe('pending');
  });

  it('fails the task when the remote task fails', async () => {
    const sdk = await startSdkAgent({ fail: true });
    const { tasks, poolId } = await peerIn(sdk);
    await tasks.submit({ id: 't-bad', objective: 'add', inputs: { numbers: [1] }, poolId, requiredCapabilities: ['sum'], constraints: { maxRetries: 0 } });
    await until(async () => (await tasks.getTask('t-bad')).state === 'failed');
    expect((await tasks.getTask('t-bad')).failureReason).toMatch(/a2a failed: remote task .* ended TASK_STATE_FAILED: cannot do that/);
  });
});
