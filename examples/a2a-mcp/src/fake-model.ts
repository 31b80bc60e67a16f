// A local OpenAI-compatible chat server (127.0.0.1, a free port) standing in for the model, as
// in examples/llm-agent. It reads what the LLM agent sends: offered a task, it calls the MCP
// tool `calc__multiply` with the task's numbers; given the tool's result, it answers with the
// decisions that claim the task and report the product.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface ChatBody {
  model: string;
  messages: { role: string; content: string | null; tool_call_id?: string }[];
  tools?: { function: { name: string } }[];
}

/** The running fake model. */
export interface FakeModel {
  /** Base URL for `OpenAIProvider` (`http://127.0.0.1:PORT/v1`). */
  baseUrl: string;
  /** Chat requests answered. */
  calls: number;
  close(): Promise<void>;
}

function reply(model: string, message: object, finish: string): string {
  return JSON.stringify({
    id: 'chatcmpl-local',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: finish }],
  });
}

/** What the model "thinks": a tool call, the final decisions, or nothing to do. */
function answer(body: ChatBody): { message: object; finish: string } {
  const prompt = body.messages.find((m) => m.role === 'user')?.content ?? '';
  const { tasks } = JSON.parse(prompt) as { tasks: { id: string; state: string; inputs: { a?: number; b?: number } }[] };
  const task = tasks.find((t) => t.state === 'pending');
  const toolResult = body.messages.find((m) => m.role === 'tool');
  if (task === undefined) return { message: { role: 'assistant', content: '[]' }, finish: 'stop' };
  if (toolResult === undefined) {
    const args = JSON.stringify({ a: task.inputs.a, b: task.inputs.b });
    return {
      message: { role: 'assistant', content: null, tool_calls: [{ id: 'call-1', type: 'function', function: { name: 'calc__multiply', arguments: args } }] },
      finish: 'tool_calls',
    };
  }
  // The tool result is the MCP call's outcome, as JSON: { content, structuredContent: { product } }.
  const product = (JSON.parse(toolResult.content ?? '{}') as { structuredContent?: { product?: number } }).structuredContent?.product;
  const decisions = [
    { type: 'ClaimTask', taskId: task.id },
    { type: 'ReportTask', taskId: task.id, result: `${task.inputs.a} × ${task.inputs.b} = ${product}` },
  ];
  return { message: { role: 'assistant', content: JSON.stringify(decisions) }, finish: 'stop' };
}

/** Starts the fake model on a free port of 127.0.0.1. */
export async function startFakeModel(): Promise<FakeModel> {
  const state = { calls: 0 };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      state.calls++;
      const body = JSON.parse(raw) as ChatBody;
      const { message, finish } = answer(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(reply(body.model, message, finish));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get calls() {
      return state.calls;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
