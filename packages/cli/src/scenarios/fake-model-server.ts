// A small fake chat model on 127.0.0.1 that speaks the OpenAI Chat Completions API, so the
// `llm` scenario runs without a key or a network. It reads the LLMAgent's JSON prompt and
// answers as a diligent model would: claim every pending sum/sort task on offer and report its
// result. It is a real HTTP server: the agent's provider, retries and limits all run.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConvergeError } from '@converge/core';
import { computeWork } from './work.js';

/** Largest request body the fake model reads, bytes. */
export const FAKE_MODEL_MAX_BODY_BYTES = 1_048_576;

/** Most tasks the fake model takes on in one answer (a claim and a report each). */
export const FAKE_MODEL_MAX_TASKS = 8;

/** A running fake model server. */
export interface FakeModelServer {
  /** `http://127.0.0.1:<port>/v1`: the provider's `baseUrl`. */
  baseUrl: string;
  /** Chat completion requests answered. */
  readonly requests: number;
  /** Requests refused (bad path or method, body too large, not JSON). */
  readonly refused: number;
  /** Tasks the model has answered with a result. */
  readonly answered: number;
  close(): Promise<void>;
}

/** The fake model server could not start. */
export class FakeModelServerError extends ConvergeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, 'ERR_FAKE_MODEL_SERVER', options);
    this.name = 'FakeModelServerError';
  }
}

interface PromptTask {
  id?: unknown;
  objective?: unknown;
  inputs?: unknown;
  state?: unknown;
}

/** The decisions the fake model gives for one prompt: claim and report each pending task. */
export function fakeModelAnswer(prompt: string): { decisions: unknown[]; tasks: number } {
  let parsed: { tasks?: PromptTask[]; agent?: { id?: unknown } };
  try {
    parsed = JSON.parse(prompt) as { tasks?: PromptTask[]; agent?: { id?: unknown } };
  } catch {
    return { decisions: [], tasks: 0 };
  }
  const decisions: unknown[] = [];
  let tasks = 0;
  // Each agent goes through the offer in its own order, so two model-backed workers seldom
  // reach for the same task first.
  const me = typeof parsed.agent?.id === 'string' ? parsed.agent.id : '';
  const offer = (Array.isArray(parsed.tasks) ? parsed.tasks : []).map((t) => ({ t, k: hash(me + String(t?.id)) })).sort((a, b) => a.k - b.k);
  for (const { t } of offer) {
    if (tasks >= FAKE_MODEL_MAX_TASKS) break;
    if (typeof t?.id !== 'string' || (t.objective !== 'sum' && t.objective !== 'sort') || t.state !== 'pending') continue;
    const result = computeWork({ objective: t.objective, inputs: t.inputs as never });
    decisions.push({ type: 'ClaimTask', taskId: t.id }, { type: 'ReportTask', taskId: t.id, result });
    tasks++;
  }
  return { decisions, tasks };
}

/** FNV-1a of `s` (a stable order, not a secret). */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** What the fake model has seen so far. */
interface FakeModelCounts {
  requests: number;
  refused: number;
  answered: number;
}

/** Answers one parsed chat-completions request body (`size`: its bytes) with the workload's decisions. */
/** The part of a chat-completions request body the fake model reads. */
interface ChatRequest {
  model?: string;
  messages?: { role?: unknown; content?: unknown }[];
}

/** `v` as a `ChatRequest`: an object whose `model` (if any) is a string and `messages` (if any) an array of objects; else undefined. */
function chatRequestOf(v: unknown): ChatRequest | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const { model, messages } = v as { model?: unknown; messages?: unknown };
  if (model !== undefined && typeof model !== 'string') return undefined;
  if (messages !== undefined && !(Array.isArray(messages) && messages.every((m: unknown) => m !== null && typeof m === 'object'))) return undefined;
  return v as ChatRequest;
}

function answer(res: ServerResponse, body: ChatRequest, size: number, counts: FakeModelCounts): void {
  counts.requests++;
  const user = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
  const { decisions, tasks } = fakeModelAnswer(typeof user?.content === 'string' ? user.content : '');
  counts.answered += tasks;
  const content = '```json\n' + JSON.stringify(decisions) + '\n```';
  send(res, 200, {
    id: `fake-${counts.requests}`,
    object: 'chat.completion',
    model: body.model ?? 'converge-fake-1',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: Math.ceil(size / 4),
      completion_tokens: Math.ceil(content.length / 4),
      total_tokens: Math.ceil(size / 4) + Math.ceil(content.length / 4),
    },
  });
}

/** The request handler: POST .../chat/completions with a JSON body of at most `FAKE_MODEL_MAX_BODY_BYTES`, else refused. */
function handle(req: IncomingMessage, res: ServerResponse, counts: FakeModelCounts): void {
  if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
    counts.refused++;
    send(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
    return;
  }
  const parts: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > FAKE_MODEL_MAX_BODY_BYTES) {
      counts.refused++;
      send(res, 413, { error: { message: 'request too large', type: 'invalid_request_error' } });
      req.destroy();
    } else parts.push(c);
  });
  req.on('end', () => {
    if (res.writableEnded) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      counts.refused++;
      send(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
      return;
    }
    const body = chatRequestOf(parsed);
    if (!body) {
      counts.refused++;
      send(res, 400, { error: { message: 'body is not a chat completions request', type: 'invalid_request_error' } });
      return;
    }
    answer(res, body, size, counts);
  });
}

/** Starts the fake model on `127.0.0.1`, port `port` (0 = any free one). */
export async function startFakeModelServer(port = 0): Promise<FakeModelServer> {
  const counts: FakeModelCounts = { requests: 0, refused: 0, answered: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => handle(req, res, counts));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    throw new FakeModelServerError(`cannot start the fake model server on 127.0.0.1:${port}: ${(err as Error).message}`, { cause: err });
  }
  const { port: bound } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${bound}/v1`,
    get requests() {
      return counts.requests;
    },
    get refused() {
      return counts.refused;
    },
    get answered() {
      return counts.answered;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
