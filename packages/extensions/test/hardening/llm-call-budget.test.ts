// M4 (LLM side): an LLM agent called its model in a tight loop (2,886 calls in 3 s with no new
// input). decide now asks the model only when something is new since its last answer, and a
// sliding-window budget caps calls (LLMBudgetError with retryAfterMs, the model not asked).
import { describe, expect, it } from 'vitest';
import { createMessage, createTask, type Task } from '@converge/core';
import { LLMAgent, LLMBudgetError, type ChatResponse, type LLMProvider } from '../../src/llm/index.js';

class CountingProvider implements LLMProvider {
  readonly name = 'counting';
  calls = 0;
  async chat(): Promise<ChatResponse> {
    this.calls++;
    return { content: '[{"type":"ClaimTask","taskId":"t-1"}]', model: 'counting' };
  }
  // eslint-disable-next-line require-yield
  async *chatStream(): AsyncIterable<{ delta: string }> {
    throw new Error('not called');
  }
}

describe('LLMAgent call budget (M4)', () => {
  it('does not call the model again when nothing new arrived', async () => {
    const provider = new CountingProvider();
    const agent = new LLMAgent({ provider });
    const task = createTask({ objective: 'x' });
    for (let i = 0; i < 100; i++) await agent.decide([], [task]);
    expect(provider.calls).toBe(1);
    expect(agent.stats.idleSkips).toBe(99);
    // Anything new wakes it: a message, a change in the tasks on offer, an outcome.
    await agent.decide([createMessage({ payload: 1 })], [task]);
    expect(provider.calls).toBe(2);
    await agent.decide([], [{ ...task, attempts: task.attempts + 1 } as Task]);
    expect(provider.calls).toBe(3);
    await agent.decide([], [{ ...task, attempts: task.attempts + 1 } as Task], { outcomes: [{ status: 'ok' }] });
    expect(provider.calls).toBe(4);
    await agent.decide([], []);
    expect(provider.calls).toBe(5);
    await agent.decide([], []);
    expect(provider.calls).toBe(5);
  });

  it('refuses calls past maxCallsPerWindow with LLMBudgetError (retryAfterMs), then allows them as the window slides', async () => {
    const provider = new CountingProvider();
    let now = 1_000_000;
    const agent = new LLMAgent({ provider, maxCallsPerWindow: 3, callWindowMs: 10_000, clock: () => now });
    const msg = () => [createMessage({ payload: 'new' })];
    for (let i = 0; i < 3; i++) {
      await agent.decide(msg(), []);
      now += 1_000;
    }
    const refused = await agent.decide(msg(), []).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LLMBudgetError);
    expect((refused as LLMBudgetError).code).toBe('ERR_LLM_BUDGET');
    expect((refused as LLMBudgetError).retryAfterMs).toBe(7_000);
    expect(provider.calls).toBe(3);
    expect(agent.stats.budgetRefusals).toBe(1);
    now += 7_000;
    await agent.decide(msg(), []);
    expect(provider.calls).toBe(4);
  });
});
