// Issue 16 item 2: an LLM agent in a runtime calls a tool in its provider's own tool-calling
// format (a real HTTP server on 127.0.0.1 fakes OpenAI, Anthropic and Mistral), the runtime runs
// the tool, its outcome goes back as the provider's tool-result message, and the model answers
// with a decision that carries the result. Timeout and refused outcomes reach the model as error
// tool results.
import { afterEach, describe, expect, it } from 'vitest';
import { Identity, ToolRegistry, type Message, type Tool } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { AnthropicProvider, LLMAgent, MistralProvider, OpenAIProvider, type ChatToolSpec, type LLMProvider } from '@converge/extensions/llm';
import { AgentRuntime } from '../src/index.js';
// A plain HTTP test server shared by the repository's tests (not part of any package).
import { sendJson, startFakeServer, type FakeServer, type Recorded } from '../../../test/support/fake-http-server.js';

/** A tool result as the fake server read it back from a request body, provider-neutral. */
interface SeenResult {
  id: string;
  content: string;
  isError: boolean;
}

/** One provider's API as the fake server speaks it. */
interface ProviderApi {
  name: string;
  path: string;
  make(origin: string): LLMProvider;
  /** A response that calls tools. */
  toolCalls(calls: { id: string; name: string; args: object }[]): object;
  /** A final text response. */
  text(content: string): object;
  /** The tool results a request carries, in its native format. */
  results(body: Recorded['body']): SeenResult[];
  /** Asserts the request offers `names` in the native tools format. */
  checkTools(body: Recorded['body'], names: string[]): void;
  /** Asserts the request replays the assistant turn that made these calls. */
  checkAssistantTurn(body: Recorded['body'], calls: { id: string; name: string; args: object }[]): void;
}

const retry = { maxRetries: 0 };

function openAiLike(name: string, make: (origin: string) => LLMProvider): ProviderApi {
  return {
    name,
    path: '/v1/chat/completions',
    make,
    toolCalls: (calls) => ({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'test-model',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } })),
          },
        },
      ],
    }),
    text: (content) => ({
      id: 'chatcmpl-2',
      object: 'chat.completion',
      model: 'test-model',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    }),
    results: (body) =>
      (body.messages as { role: string; tool_call_id?: string; content: string }[])
        .filter((m) => m.role === 'tool')
        .map((m) => ({ id: m.tool_call_id!, content: m.content, isError: m.content.includes('"error"') })),
    checkTools: (body, names) => {
      expect(body.tools.map((t: { type: string; function: { name: string } }) => [t.type, t.function.name])).toEqual(names.map((n) => ['function', n]));
      expect(body.tools[0].function.parameters.type).toBe('object');
    },
    checkAssistantTurn: (body, calls) => {
      const turn = (body.messages as { role: string; tool_calls?: unknown }[]).find((m) => m.role === 'assistant');
      expect(turn).toEqual({
        role: 'assistant',
        content: null,
        tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } })),
      });
    },
  };
}

const APIS: ProviderApi[] = [
  openAiLike('openai', (origin) => new OpenAIProvider({ apiKey: 'k', model: 'test-model', baseUrl: `${origin}/v1`, retry })),
  openAiLike('mistral', (origin) => new MistralProvider({ apiKey: 'k', model: 'test-model', baseUrl: `${origin}/v1`, retry })),
  {
    name: 'anthropic',
    path: '/v1/messages',
    make: (origin) => new AnthropicProvider({ apiKey: 'k', model: 'test-model', baseUrl: origin, retry }),
    toolCalls: (calls) => ({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'test-model',
      stop_reason: 'tool_use',
      content: [{ type: 'text', text: 'Let me compute that.' }, ...calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.args }))],
    }),
    text: (content) => ({
      id: 'msg_2',
      type: 'message',
      role: 'assistant',
      model: 'test-model',
      stop_reason: 'end_turn',
      content: [{ type: 'text', text: content }],
    }),
    results: (body) => {
      const out: SeenResult[] = [];
      for (const m of body.messages as { role: string; content: unknown }[]) {
        if (m.role !== 'user' || !Array.isArray(m.content)) continue;
        for (const b of m.content as { type: string; tool_use_id: string; content: string; is_error?: boolean }[]) {
          if (b.type === 'tool_result') out.push({ id: b.tool_use_id, content: b.content, isError: b.is_error === true });
        }
      }
      return out;
    },
    checkTools: (body, names) => {
      expect(body.tools.map((t: { name: string }) => t.name)).toEqual(names);
      expect(body.tools[0].input_schema.type).toBe('object');
    },
    checkAssistantTurn: (body, calls) => {
      const turn = (body.messages as { role: string }[]).find((m) => m.role === 'assistant');
      expect(turn).toEqual({
        role: 'assistant',
        content: [{ type: 'text', text: 'Let me compute that.' }, ...calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.args }))],
      });
      // The Messages API alternates roles: every tool_result sits in the one user turn after it.
      const roles = (body.messages as { role: string }[]).map((m) => m.role);
      expect(roles).toEqual(['user', 'assistant', 'user']);
    },
  },
];

const add: Tool = { name: 'add', description: 'a + b', run: (p) => Number(p.a) + Number(p.b) };
const hang: Tool = { name: 'hang', run: (_p, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) };
const secret: Tool = { name: 'secret', run: () => 'the vault code' };
const SPECS: ChatToolSpec[] = [
  {
    name: 'add',
    description: 'Adds two numbers',
    parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
  },
  { name: 'hang', description: 'Never answers' },
  { name: 'secret', description: 'Not allowed for this agent' },
];

const servers: FakeServer[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function waitUntil(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms; // a hang guard, not a timing goal
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Runs an LLM agent with the tools in a runtime; the fake API answers the first call with
 * `firstCalls` and every later one with `answer(resultsSeen)`. Returns what the peer received.
 */
async function run(api: ProviderApi, firstCalls: { id: string; name: string; args: object }[], answer: (results: SeenResult[], peer: string) => string) {
  const peerId = Identity.generate();
  const server = await startFakeServer((_req, res, n, rec) => {
    sendJson(res, 200, n === 0 ? api.toolCalls(firstCalls) : api.text(answer(api.results(rec.body), peerId.fingerprint)));
  });
  servers.push(server);
  const agent = new LLMAgent({ provider: api.make(server.origin), identity: Identity.generate(), tools: SPECS });
  const hub = new LocalHub();
  const rt = new AgentRuntime({
    agent,
    transport: new LocalTransport(agent.id, { hub }),
    tickIntervalMs: 1e9,
    sweepIntervalMs: 0,
    executorOptions: { tools: new ToolRegistry([add, hang, secret]), toolAllowlist: ['add', 'hang'], toolTimeoutMs: 100 },
  });
  const peer = new LocalTransport(peerId.fingerprint, { hub });
  await peer.start();
  stops.push(
    () => peer.stop(),
    () => rt.stop(),
  );
  await rt.start();
  const received: Message[] = [];
  await waitUntil(() => {
    const m = peer.tryReceive();
    if (m) received.push(m);
    return received.length > 0;
  });
  return { server, agent, received };
}

describe('LLM tool loop in the providers’ own formats', () => {
  for (const api of APIS) {
    it(`${api.name}: the model calls a tool, the runtime runs it, the result goes back as a tool result and the answer carries it`, async () => {
      const calls = [{ id: `call_${api.name}_1`, name: 'add', args: { a: 2, b: 3 } }];
      const { server, agent, received } = await run(api, calls, (results, peer) => {
        const sum = results.length === 1 && !results[0]!.isError ? JSON.parse(results[0]!.content) : 'no result';
        return JSON.stringify([{ type: 'SendMessage', recipient: peer, payload: { sum } }]);
      });
      expect(server.requests.map((r) => r.path)).toEqual([api.path, api.path]);
      const [first, second] = server.requests;
      api.checkTools(first!.body, ['add', 'hang', 'secret']);
      api.checkTools(second!.body, ['add', 'hang', 'secret']);
      api.checkAssistantTurn(second!.body, calls);
      expect(api.results(second!.body)).toEqual([{ id: calls[0]!.id, content: '5', isError: false }]);
      expect(received[0]!.payload).toEqual({ sum: 5 });
      expect(agent.stats).toMatchObject({ calls: 2, toolCalls: 1, toolResults: 1, conversationsCut: 0 });
    });

    it(`${api.name}: a timed-out tool and a refused one reach the model as error tool results`, async () => {
      const calls = [
        { id: `call_${api.name}_h`, name: 'hang', args: {} },
        { id: `call_${api.name}_s`, name: 'secret', args: {} },
      ];
      const { server, received } = await run(api, calls, (results, peer) => JSON.stringify([{ type: 'SendMessage', recipient: peer, payload: { results } }]));
      const results = api.results(server.requests[1]!.body);
      expect(results.map((r) => r.id)).toEqual(calls.map((c) => c.id));
      expect(JSON.parse(results[0]!.content)).toMatchObject({ status: 'timeout', error: { code: 'ERR_TIMEOUT' } });
      expect(JSON.parse(results[1]!.content)).toMatchObject({ status: 'refused', error: { name: 'PolicyError' } });
      expect(results[1]!.content).toContain('allowlist');
      // Anthropic carries the flag natively (is_error); the others see the error in the content.
      expect(results.every((r) => r.isError)).toBe(true);
      expect(received).toHaveLength(1);
    });
  }
});
