// The outcomes of an LLM agent's previous decisions reach its model: a refused claim or a tool's
// result is new input (the model is asked again, and sees it in the prompt); a delivered
// SendMessage is not (else an agent that always answers with a message would call its model
// again at once, forever).
import { describe, expect, it } from 'vitest';
import { errorOutcome, okOutcome, PolicyError, type Decision } from '@converge/core';
import { LLMAgent } from '../../src/llm/index.js';
import { PromptRecordingProvider } from '../../../../test/support/llm-provider.js';

/** Answers every call with no decisions and records each prompt. */
const recording = () => new PromptRecordingProvider('recording', '[]');

const send: Decision = { type: 'SendMessage', recipient: null, payload: { hi: 1 } } as Decision;
const claim: Decision = { type: 'ClaimTask', taskId: 'task-7' } as Decision;
const tool: Decision = { type: 'InvokeTool', tool: 'add', params: { a: 1, b: 2 } } as Decision;

describe('LLMAgent and outcomes', () => {
  it('asks again with a refused claim and a tool result in the prompt', async () => {
    const provider = recording();
    const agent = new LLMAgent({ provider });
    await agent.decide([], []);
    expect(provider.prompts).toHaveLength(1);
    const outcomes = [errorOutcome(claim, new PolicyError('not a member of the pool'), 'refused'), okOutcome(tool, 3)];
    await agent.decide([], [], { outcomes });
    expect(provider.prompts).toHaveLength(2);
    const prompt = JSON.parse(provider.prompts[1]!) as {
      outcomes: { decision: string; status: string; taskId?: string; tool?: string; result?: unknown; error?: { message?: string } }[];
    };
    expect(prompt.outcomes).toHaveLength(2);
    expect(prompt.outcomes[0]).toMatchObject({ decision: 'ClaimTask', taskId: 'task-7', status: 'refused' });
    expect(prompt.outcomes[0]!.error?.message).toContain('not a member');
    expect(prompt.outcomes[1]).toMatchObject({ decision: 'InvokeTool', tool: 'add', status: 'ok', result: 3 });
  });

  it('does not ask again for a delivered SendMessage alone, and leaves it out of the prompt', async () => {
    const provider = recording();
    const agent = new LLMAgent({ provider });
    await agent.decide([], []);
    await agent.decide([], [], { outcomes: [okOutcome(send, 'message-id-1')] });
    expect(provider.prompts).toHaveLength(1);
    expect(agent.stats.idleSkips).toBe(1);
    // A failed send is news.
    await agent.decide([], [], { outcomes: [errorOutcome(send, new Error('no route'), 'failed')] });
    expect(provider.prompts).toHaveLength(2);
    expect(provider.prompts[1]).toContain('"status":"failed"');
  });
});
