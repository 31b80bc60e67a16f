import { describe, expect, it } from 'vitest';
import { ConfigError, createMessage, createTask, type Decision, type DecisionPolicy } from '@converge/core';
import {
  LLMAgent,
  LLMTimeoutError,
  OpenAIProvider,
  extractDecisionList,
  type ChatRequest,
  type ChatResponse,
  type LLMProvider,
  type LLMRejection,
} from '../../src/llm/index.js';
import { sendJson, startFakeServer } from '../../../../test/support/fake-http-server.js';

/** A provider that answers from a script and records what it was asked. */
class ScriptedProvider implements LLMProvider {
  readonly name = 'scripted';
  readonly requests: ChatRequest[] = [];
  constructor(private readonly answers: (string | Error)[]) {}
  async chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const a = this.answers.shift() ?? '[]';
    if (a instanceof Error) throw a;
    return { content: a, model: 'scripted' };
  }
  async *chatStream(): AsyncIterable<{ delta: string }> {
    yield { delta: '' };
  }
}

/** A tiny allowlist policy (the real one lives in @converge/policy). */
const allowTypes = (...types: string[]): DecisionPolicy => ({
  check: (d: Decision) => (types.includes(d.type) ? { allowed: true } : { allowed: false, reason: `${d.type} is not allowed` }),
});

const claim = { type: 'ClaimTask', taskId: 't-1' };
const send = { type: 'SendMessage', recipient: null, payload: { text: 'hi' } };

describe('LLMAgent', () => {
  it('accepts a fenced ```json answer with prose around it', async () => {
    const agent = new LLMAgent({
      provider: new ScriptedProvider([`Sure! Here you go:\n\`\`\`json\n${JSON.stringify([claim, send])}\n\`\`\`\nHope that helps.`]),
    });
    expect(await agent.decide([], [])).toEqual([claim, send]);
    expect(agent.stats.accepted).toBe(2);
    expect(agent.stats.rejections).toEqual({ unparseable: 0, schema: 0, policy: 0, too_many: 0 });
  });

  it('accepts an unfenced answer, bare or inside prose', async () => {
    // Asked twice on the same (empty) input: opt out of the idle rule (see llm-call-budget.test.ts).
    const agent = new LLMAgent({
      provider: new ScriptedProvider([JSON.stringify([claim]), `I think [1] thing; decisions: ${JSON.stringify([send])} done`]),
      callOnlyOnNewInput: false,
    });
    expect(await agent.decide([], [])).toEqual([claim]);
    expect(await agent.decide([], [])).toEqual([send]);
  });

  it('garbage: nothing returned, counted as unparseable', async () => {
    const seen: LLMRejection[] = [];
    const agent = new LLMAgent({
      provider: new ScriptedProvider(['I would rather not.', '```json\n[{"type": \n```', '']),
      onRejection: (r) => seen.push(r),
      callOnlyOnNewInput: false,
    });
    for (let i = 0; i < 3; i++) expect(await agent.decide([], [])).toEqual([]);
    expect(agent.stats.rejections.unparseable).toBe(3);
    expect(seen.map((r) => r.reason)).toEqual(['unparseable', 'unparseable', 'unparseable']);
  });

  it('schema-invalid decisions are dropped one by one and counted', async () => {
    const answer = JSON.stringify([
      claim,
      { type: 'ClaimTask' }, // no taskId
      { type: 'SubmitBid', auctionId: 'a', amount: 'lots' },
      { type: 'LaunchMissiles', target: 'x' }, // unknown type
      'ClaimTask t-2',
      null,
      { type: 'Vote', ballotId: 'b', choice: 'yes', extra: 'stripped' },
    ]);
    const agent = new LLMAgent({ provider: new ScriptedProvider([answer]) });
    expect(await agent.decide([], [])).toEqual([claim, { type: 'Vote', ballotId: 'b', choice: 'yes' }]);
    expect(agent.stats.rejections.schema).toBe(5);
    expect(agent.stats.proposed).toBe(7);
  });

  it('custom types only when allowed', async () => {
    const custom = { type: 'Dance', style: 'waltz' };
    const agent = new LLMAgent({ provider: new ScriptedProvider([JSON.stringify([custom, { type: 'Sing' }])]), allowCustomTypes: ['Dance'] });
    expect(await agent.decide([], [])).toEqual([custom]);
    expect(agent.stats.rejections.schema).toBe(1);
  });

  it('policy-forbidden decisions are dropped and counted; a throwing policy refuses', async () => {
    const agent = new LLMAgent({
      provider: new ScriptedProvider([JSON.stringify([claim, send, { type: 'CancelTask', taskId: 't-1' }])]),
      policy: allowTypes('ClaimTask'),
    });
    expect(await agent.decide([], [])).toEqual([claim]);
    expect(agent.stats.rejections.policy).toBe(2);
    const throwing = new LLMAgent({
      provider: new ScriptedProvider([JSON.stringify([claim])]),
      policy: {
        check: () => {
          throw new Error('policy store down');
        },
      },
    });
    expect(await throwing.decide([], [])).toEqual([]);
    expect(throwing.stats.rejections.policy).toBe(1);
  });

  it('everything forbidden: no decision at all', async () => {
    const agent = new LLMAgent({ provider: new ScriptedProvider([JSON.stringify([send, send])]), policy: allowTypes() });
    expect(await agent.decide([], [])).toEqual([]);
    expect(agent.stats.rejections.policy).toBe(2);
  });

  it('more than maxDecisions: the rest counted as too_many', async () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ type: 'ClaimTask', taskId: `t-${i}` }));
    const agent = new LLMAgent({ provider: new ScriptedProvider([JSON.stringify(many)]), maxDecisions: 2 });
    expect(await agent.decide([], [])).toHaveLength(2);
    expect(agent.stats.rejections.too_many).toBe(3);
  });

  it('a provider error returns [] and is counted by code, or is rethrown when asked', async () => {
    const agent = new LLMAgent({ provider: new ScriptedProvider([new LLMTimeoutError(10), new Error('boom')]) });
    expect(await agent.decide([], [])).toEqual([]);
    expect(await agent.decide([], [])).toEqual([]);
    expect(agent.stats.providerErrors).toBe(2);
    expect(agent.stats.providerErrorsByCode).toEqual({ ERR_LLM_TIMEOUT: 1, ERR_UNKNOWN: 1 });
    const strict = new LLMAgent({ provider: new ScriptedProvider([new LLMTimeoutError(10)]), throwOnProviderError: true });
    await expect(strict.decide([], [])).rejects.toBeInstanceOf(LLMTimeoutError);
  });

  it('the prompt carries messages and tasks as JSON, within its budget', async () => {
    const provider = new ScriptedProvider(['[]']);
    const agent = new LLMAgent({ provider, systemPrompt: 'You are a worker.', timeoutMs: 1234 });
    const msg = createMessage({ sender: 'a'.repeat(64), payload: { big: 2n ** 60n, bytes: new Uint8Array([1, 2]) } });
    const task = createTask({ objective: 'add numbers', inputs: { a: 1, b: 2 } });
    await agent.decide([msg], [task]);
    const req = provider.requests[0]!;
    expect(req.timeoutMs).toBe(1234);
    expect(req.messages[0]!.role).toBe('system');
    expect(req.messages[0]!.content).toContain('You are a worker.');
    expect(req.messages[0]!.content).toContain('ClaimTask');
    const ctx = JSON.parse(req.messages[1]!.content);
    expect(ctx.agent.id).toBe(agent.id);
    expect(ctx.messages[0].id).toBe(msg.id);
    expect(ctx.messages[0].payload).toEqual({ big: String(2n ** 60n), bytes: { $bytes: '0102' } });
    expect(ctx.tasks[0]).toMatchObject({ id: task.id, objective: 'add numbers', inputs: { a: 1, b: 2 } });
    const tight = new LLMAgent({ provider: new ScriptedProvider([]), maxPromptChars: 50 });
    const p = JSON.parse(tight.buildPrompt([msg, msg], [task]).user);
    expect(p.messages).toHaveLength(0);
    expect(p.messagesOmitted).toBe(2);
    expect(p.tasksOmitted).toBe(1);
  });

  it('onStop cancels a call in flight', async () => {
    const hanging: LLMProvider = {
      name: 'hang',
      chat: (req) => new Promise((_, reject) => req.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
      chatStream: async function* () {},
    };
    const agent = new LLMAgent({ provider: hanging });
    const pending = agent.decide([], []);
    agent.onStop();
    expect(await pending).toEqual([]);
    expect(agent.stats.providerErrors).toBe(1);
    // After a restart, calls work again.
    agent.onStart();
    const ok = new LLMAgent({ provider: new ScriptedProvider(['[]']) });
    ok.onStop();
    ok.onStart();
    expect(await ok.decide([], [])).toEqual([]);
    expect(ok.stats.providerErrors).toBe(0);
  });

  it('a provider that ignores its signal still cannot hold decide past timeoutMs', async () => {
    const deaf: LLMProvider = { name: 'deaf', chat: () => new Promise(() => {}), chatStream: async function* () {} };
    const agent = new LLMAgent({ provider: deaf, timeoutMs: 50 });
    expect(await agent.decide([], [])).toEqual([]);
    expect(agent.stats.providerErrorsByCode).toEqual({ ERR_LLM_TIMEOUT: 1 });
  });

  it('needs a provider', () => {
    expect(() => new LLMAgent({} as never)).toThrow(ConfigError);
    expect(() => new LLMAgent({ provider: new ScriptedProvider([]), maxDecisions: 0 })).toThrow(ConfigError);
  });

  it('end to end over HTTP with an OpenAI-compatible server', async () => {
    const s = await startFakeServer((_req, res) =>
      sendJson(res, 200, {
        model: 'fake',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: '```json\n[{"type":"ClaimTask","taskId":"t-9"},{"type":"CancelTask","taskId":"t-9"}]\n```' },
            finish_reason: 'stop',
          },
        ],
      }),
    );
    try {
      const agent = new LLMAgent({ provider: new OpenAIProvider({ apiKey: 'k', model: 'fake', baseUrl: s.origin }), policy: allowTypes('ClaimTask') });
      expect(await agent.decide([], [])).toEqual([{ type: 'ClaimTask', taskId: 't-9' }]);
      expect(agent.stats.rejections.policy).toBe(1);
      expect(s.requests[0]!.body.messages[1].role).toBe('user');
    } finally {
      await s.close();
    }
  });
});

describe('extractDecisionList', () => {
  it('finds lists in the usual places', () => {
    expect(extractDecisionList('[]')).toEqual([]);
    expect(extractDecisionList('```\n[{"type":"A"}]\n```')).toEqual([{ type: 'A' }]);
    expect(extractDecisionList('```python\nx=[1]\n```\n```json\n[{"type":"B"}]\n```')).toEqual([{ type: 'B' }]);
    expect(extractDecisionList('{"decisions": [{"type":"C"}]}')).toEqual([{ type: 'C' }]);
    expect(extractDecisionList('Answer: {"type":"D", "note": "a ] in a string"} ok')).toEqual([{ type: 'D', note: 'a ] in a string' }]);
    expect(extractDecisionList('no json here')).toBeUndefined();
    expect(extractDecisionList('"just a string"')).toBeUndefined();
    expect(extractDecisionList('x'.repeat(300_000))).toBeUndefined();
  });
});
