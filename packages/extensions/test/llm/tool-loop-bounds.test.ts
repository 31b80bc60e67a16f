// The defences of LLMAgent's tool loop, without a runtime: a model's tool call is vetted like any
// decision (offered tool, bounded and valid arguments, the policy, maxDecisions), a rejected call
// gets an error tool result at once, and a conversation is bounded in turns and characters.
import { describe, expect, it } from 'vitest';
import { okOutcome, type Decision, type DecisionPolicy } from '@converge/core';
import { LLMAgent, MAX_TOOL_ARGUMENT_CHARS, type ChatRequest, type ChatResponse, type ChatToolCall, type LLMProvider } from '../../src/llm/index.js';

/** Answers from a script (one entry per call; the last repeats) and records every request. */
class ScriptedProvider implements LLMProvider {
  readonly name = 'scripted';
  readonly requests: ChatRequest[] = [];
  constructor(private readonly script: ChatResponse[]) {}
  async chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    return this.script[Math.min(this.requests.length - 1, this.script.length - 1)]!;
  }
  // eslint-disable-next-line require-yield
  async *chatStream(): AsyncIterable<{ delta: string }> {
    throw new Error('not called');
  }
}

const calls = (...c: ChatToolCall[]): ChatResponse => ({ content: '', model: 'm', toolCalls: c });
const text = (content: string): ChatResponse => ({ content, model: 'm' });
const tools = [{ name: 'add' }, { name: 'lookup' }];
const toolMessages = (r: ChatRequest) => r.messages.filter((m) => m.role === 'tool');

describe('LLMAgent tool loop bounds', () => {
  it('turns an offered tool call into an InvokeTool decision and its outcome into the next tool result', async () => {
    const provider = new ScriptedProvider([calls({ id: 'c1', name: 'add', arguments: '{"a":1,"b":2}' }), text('[]')]);
    const agent = new LLMAgent({ provider, tools });
    const [d] = await agent.decide([], []);
    expect(d).toEqual({ type: 'InvokeTool', tool: 'add', params: { a: 1, b: 2 } });
    expect(await agent.decide([], [], { outcomes: [okOutcome(d!, 3)] })).toEqual([]);
    expect(toolMessages(provider.requests[1]!)).toEqual([{ role: 'tool', toolCallId: 'c1', content: '3' }]);
    // The result went back as a tool result, not again as a JSON outcome in a prompt.
    expect(provider.requests[1]!.messages.filter((m) => m.role === 'user')).toHaveLength(1);
  });

  it('rejects a call to a tool that was not offered, and tells the model in the same decide', async () => {
    const provider = new ScriptedProvider([calls({ id: 'c1', name: 'rm_rf', arguments: '{}' }), text('[]')]);
    const agent = new LLMAgent({ provider, tools });
    expect(await agent.decide([], [])).toEqual([]);
    expect(agent.stats.rejections.schema).toBe(1);
    expect(provider.requests).toHaveLength(2);
    const [result] = toolMessages(provider.requests[1]!);
    expect(result).toMatchObject({ toolCallId: 'c1', isError: true });
    expect(result!.content).toContain('not offered');
  });

  it('rejects oversized, too deep and non-object arguments as schema rejections with error results', async () => {
    const huge = JSON.stringify({ s: 'x'.repeat(MAX_TOOL_ARGUMENT_CHARS) });
    const deep = `${'{"a":'.repeat(100)}1${'}'.repeat(100)}`;
    const provider = new ScriptedProvider([
      calls(
        { id: 'c1', name: 'add', arguments: huge },
        { id: 'c2', name: 'add', arguments: deep },
        { id: 'c3', name: 'add', arguments: '[1,2]' },
        { id: 'c4', name: 'add', arguments: '{oops' },
      ),
      text('[]'),
    ]);
    const agent = new LLMAgent({ provider, tools });
    expect(await agent.decide([], [])).toEqual([]);
    expect(agent.stats.rejections.schema).toBe(4);
    const results = toolMessages(provider.requests[1]!);
    expect(results.map((r) => [r.toolCallId, r.isError])).toEqual([
      ['c1', true],
      ['c2', true],
      ['c3', true],
      ['c4', true],
    ]);
    expect(results[0]!.content).toContain('longer than');
    expect(results[1]!.content).toContain('too deep');
  });

  it('vets tool calls with the policy: a refused call is not returned and its refusal goes back', async () => {
    const onlyAdd: DecisionPolicy = {
      check: (d: Decision) => ((d as { tool?: string }).tool === 'add' ? { allowed: true } : { allowed: false, reason: 'lookup is off limits' }),
    };
    const provider = new ScriptedProvider([calls({ id: 'c1', name: 'lookup', arguments: '{}' }, { id: 'c2', name: 'add', arguments: '{}' }), text('[]')]);
    const agent = new LLMAgent({ provider, tools, policy: onlyAdd });
    const out = await agent.decide([], []);
    expect(out).toEqual([{ type: 'InvokeTool', tool: 'add', params: {} }]);
    expect(agent.stats.rejections.policy).toBe(1);
    await agent.decide([], [], { outcomes: [okOutcome(out[0]!, 0)] });
    const results = toolMessages(provider.requests[1]!);
    expect(results.map((r) => r.toolCallId)).toEqual(['c1', 'c2']);
    expect(JSON.parse(results[0]!.content)).toMatchObject({ status: 'refused', error: { message: 'lookup is off limits' } });
  });

  it('ends a conversation past maxToolTurns and starts afresh with the outcomes as JSON (counted)', async () => {
    const provider = new ScriptedProvider([calls({ id: 'c', name: 'add', arguments: '{}' })]);
    const agent = new LLMAgent({ provider, tools, maxToolTurns: 2 });
    let outcomes = [okOutcome((await agent.decide([], []))[0]!, 1)];
    outcomes = [okOutcome((await agent.decide([], [], { outcomes }))[0]!, 2)];
    expect(provider.requests[1]!.messages).toHaveLength(4); // system, user, assistant, tool
    await agent.decide([], [], { outcomes });
    expect(agent.stats.conversationsCut).toBe(1);
    const third = provider.requests[2]!;
    expect(third.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(third.messages[1]!.content).toContain('"outcomes"');
  });

  it('ends a conversation past maxConversationChars (counted)', async () => {
    const provider = new ScriptedProvider([calls({ id: 'c', name: 'add', arguments: '{}' })]);
    const agent = new LLMAgent({ provider, tools, maxConversationChars: 5_000 });
    const [d] = await agent.decide([], []);
    await agent.decide([], [], { outcomes: [okOutcome(d!, 'y'.repeat(6_000))] });
    expect(agent.stats.conversationsCut).toBe(1);
    expect(provider.requests[1]!.messages.map((m) => m.role)).toEqual(['system', 'user']);
  });

  it('cuts a tool result longer than maxToolResultChars (counted)', async () => {
    const provider = new ScriptedProvider([calls({ id: 'c', name: 'add', arguments: '{}' }), text('[]')]);
    const agent = new LLMAgent({ provider, tools, maxToolResultChars: 1_000 });
    const [d] = await agent.decide([], []);
    await agent.decide([], [], { outcomes: [okOutcome(d!, 'z'.repeat(4_000))] });
    const [cut] = toolMessages(provider.requests[1]!);
    expect(cut!.content.length).toBeLessThan(1_100);
    expect(cut!.content).toContain('cut: 4002 characters');
    expect(agent.stats.toolResultsCut).toBe(1);
  });

  it('spends the call budget on tool turns too: a re-ask past it waits for the next decide', async () => {
    const provider = new ScriptedProvider([calls({ id: 'c1', name: 'nope', arguments: '{}' }), text('[]')]);
    let now = 0;
    const agent = new LLMAgent({ provider, tools, maxCallsPerWindow: 1, callWindowMs: 1_000, clock: () => now });
    expect(await agent.decide([], [])).toEqual([]);
    expect(provider.requests).toHaveLength(1);
    expect(agent.stats.budgetRefusals).toBe(1);
    now = 2_000;
    // The conversation kept the refusal; the next decide sends it as the call's error result.
    await agent.decide([], []);
    expect(provider.requests).toHaveLength(2);
    expect(toolMessages(provider.requests[1]!).map((m) => m.toolCallId)).toEqual(['c1']);
  });
});
