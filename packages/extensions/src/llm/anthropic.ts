// Anthropic's Messages API.
import type { EventSourceMessage } from 'eventsource-parser';
import { z } from 'zod';
import { HttpChatProvider, parseEventJson, toolParameters, type HttpProviderOptions, type StreamStep } from './base.js';
import { LLMRateLimitError, LLMResponseError, LLMServerError } from './errors.js';
import type { ChatMessage, ChatRequest, ChatResponse, ChatUsage } from './types.js';

/** Default `max_tokens` (the Messages API requires one). */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 1024;
/** Default `anthropic-version` header. */
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

/** Options of {@link AnthropicProvider}. */
export interface AnthropicProviderOptions extends HttpProviderOptions {
  /** `anthropic-version` header (default `2023-06-01`). */
  version?: string;
  /** `max_tokens` when a request gives none (default 1024). */
  maxTokens?: number;
}

const usageSchema = z.object({ input_tokens: z.number().optional(), output_tokens: z.number().optional() }).nullish();

const responseSchema = z.object({
  model: z.string().optional(),
  content: z.array(
    z.object({ type: z.string(), text: z.string().optional(), id: z.string().optional(), name: z.string().optional(), input: z.unknown().optional() }),
  ),
  stop_reason: z.string().nullish(),
  usage: usageSchema,
});

const eventSchema = z.object({
  type: z.string(),
  message: z.object({ model: z.string().optional(), usage: usageSchema }).optional(),
  delta: z.object({ type: z.string().optional(), text: z.string().optional(), stop_reason: z.string().nullish() }).optional(),
  usage: usageSchema,
  error: z.object({ type: z.string().optional(), message: z.string().optional() }).optional(),
});

type Block = Record<string, unknown>;

// The content blocks of one message: an assistant's tool calls become `tool_use` blocks (the
// arguments parsed back into the `input` object), a tool result a `tool_result` block with
// `tool_use_id` in a user turn.
function blocksOf(m: ChatMessage): { role: 'user' | 'assistant'; blocks: Block[] } {
  if (m.role === 'tool') {
    const block: Block = { type: 'tool_result', tool_use_id: m.toolCallId, content: m.content };
    if (m.isError) block.is_error = true;
    return { role: 'user', blocks: [block] };
  }
  const role = m.role === 'assistant' ? 'assistant' : 'user';
  const blocks: Block[] = m.content.length > 0 ? [{ type: 'text', text: m.content }] : [];
  for (const c of m.toolCalls ?? []) {
    let input: unknown;
    try {
      input = JSON.parse(c.arguments);
    } catch {
      input = {};
    }
    blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: input && typeof input === 'object' && !Array.isArray(input) ? input : {} });
  }
  return { role, blocks };
}

// The Messages API alternates user and assistant turns and wants every tool_result of an
// assistant turn in the one user message after it: consecutive messages of one role merge.
function wireMessages(messages: readonly ChatMessage[]): { role: string; content: string | Block[] }[] {
  const out: { role: 'user' | 'assistant'; blocks: Block[]; plain: boolean }[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    const { role, blocks } = blocksOf(m);
    const plain = m.role !== 'tool' && !(m.toolCalls && m.toolCalls.length > 0);
    const last = out[out.length - 1];
    // Plain text messages stay as they are (as before tools); a tool turn merges.
    if (last && last.role === role && !(last.plain && plain)) {
      last.blocks.push(...blocks);
      last.plain &&= plain;
    } else out.push({ role, blocks, plain });
  }
  // A lone text message keeps the plain string form (what the API received before tools).
  return out.map((m) => (m.plain ? { role: m.role, content: (m.blocks[0]?.text as string | undefined) ?? '' } : { role: m.role, content: m.blocks }));
}

function usageOf(u: z.infer<typeof usageSchema>): ChatUsage | undefined {
  if (!u) return undefined;
  const total = u.input_tokens !== undefined && u.output_tokens !== undefined ? u.input_tokens + u.output_tokens : undefined;
  return { inputTokens: u.input_tokens, outputTokens: u.output_tokens, totalTokens: total };
}

/**
 * Anthropic (`https://api.anthropic.com`, POST `/v1/messages`, headers `x-api-key` and
 * `anthropic-version`). System messages become the top-level `system` field (joined by a blank
 * line); `max_tokens` is always sent. Streams are SSE events `message_start`,
 * `content_block_delta` (`text_delta`), `message_delta`, `message_stop`, `ping` and `error`.
 */
export class AnthropicProvider extends HttpChatProvider {
  /** Short provider name. */
  readonly name = 'anthropic';
  protected readonly path = '/v1/messages';
  /** The `anthropic-version` header sent. */
  readonly version: string;
  /** `max_tokens` sent when a request gives none. */
  readonly maxTokens: number;

  constructor(options: AnthropicProviderOptions) {
    super(options, 'https://api.anthropic.com');
    this.version = options.version ?? DEFAULT_ANTHROPIC_VERSION;
    this.maxTokens = options.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS;
  }

  protected authHeaders(): Record<string, string> {
    return { 'x-api-key': this.apiKey, 'anthropic-version': this.version };
  }

  protected requestBody(request: ChatRequest, stream: boolean): unknown {
    const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content);
    const body: Record<string, unknown> = {
      model: request.model ?? this.model,
      max_tokens: request.maxTokens ?? this.maxTokens,
      messages: wireMessages(request.messages),
    };
    if (request.tools && request.tools.length > 0 && !stream) {
      body.tools = request.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), input_schema: toolParameters(t) }));
    }
    if (system.length > 0) body.system = system.join('\n\n');
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (stream) body.stream = true;
    return body;
  }

  protected parseResponse(body: unknown): ChatResponse {
    const r = responseSchema.safeParse(body);
    if (!r.success)
      throw new LLMResponseError(`anthropic response does not have the expected shape: ${z.prettifyError(r.error).slice(0, 300)}`, { provider: this.name });
    const content = r.data.content
      .filter((b) => b.type === 'text')
      .map((b) => b.text ?? '')
      .join('');
    const out: ChatResponse = { content, model: r.data.model ?? this.model };
    const usage = usageOf(r.data.usage);
    if (usage) out.usage = usage;
    if (r.data.stop_reason) out.finishReason = r.data.stop_reason;
    const calls = r.data.content.filter((b) => b.type === 'tool_use');
    if (calls.length > 0) {
      out.toolCalls = calls.map((b) => {
        if (typeof b.id !== 'string' || b.id.length === 0 || b.id.length > 256 || typeof b.name !== 'string' || b.name.length === 0 || b.name.length > 256) {
          throw new LLMResponseError('anthropic tool_use block without a valid id and name', { provider: this.name });
        }
        let args: string;
        try {
          args = JSON.stringify(b.input ?? {}) ?? '{}';
        } catch (cause) {
          throw new LLMResponseError('anthropic tool_use input is not JSON', { provider: this.name, cause });
        }
        return { id: b.id, name: b.name, arguments: args };
      });
    }
    return out;
  }

  protected streamHandler(): (event: EventSourceMessage) => StreamStep {
    let input: number | undefined;
    let output: number | undefined;
    let finishReason: string | undefined;
    return (event) => {
      const r = eventSchema.safeParse(parseEventJson(event, this.name));
      if (!r.success) throw new LLMResponseError('anthropic stream event does not have the expected shape', { provider: this.name });
      const e = r.data;
      switch (event.event ?? e.type) {
        case 'message_start':
          input = e.message?.usage?.input_tokens ?? input;
          output = e.message?.usage?.output_tokens ?? output;
          return { chunks: [], done: false };
        case 'content_block_delta':
          return { chunks: e.delta?.type === 'text_delta' && e.delta.text ? [{ delta: e.delta.text }] : [], done: false };
        case 'message_delta':
          if (e.delta?.stop_reason) finishReason = e.delta.stop_reason;
          output = e.usage?.output_tokens ?? output;
          input = e.usage?.input_tokens ?? input;
          return { chunks: [], done: false };
        case 'message_stop': {
          const usage = usageOf({ input_tokens: input, output_tokens: output });
          return { chunks: [{ delta: '', ...(usage ? { usage } : {}), ...(finishReason ? { finishReason } : {}) }], done: true };
        }
        case 'error': {
          const msg = `anthropic stream error: ${e.error?.message ?? e.error?.type ?? 'unknown'}`.slice(0, 500);
          if (e.error?.type === 'rate_limit_error') throw new LLMRateLimitError(msg, { provider: this.name });
          if (e.error?.type === 'overloaded_error' || e.error?.type === 'api_error') throw new LLMServerError(msg, { provider: this.name });
          throw new LLMResponseError(msg, { provider: this.name });
        }
        default: // ping, content_block_start/stop and future event types
          return { chunks: [], done: false };
      }
    };
  }
}
