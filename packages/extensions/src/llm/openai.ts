// OpenAI's Chat Completions API, and the OpenAI-compatible APIs (Mistral, local servers).
import type { EventSourceMessage } from 'eventsource-parser';
import { z } from 'zod';
import { HttpChatProvider, parseEventJson, toolParameters, type HttpProviderOptions, type StreamStep } from './base.js';
import { LLMRateLimitError, LLMResponseError, LLMServerError } from './errors.js';
import type { ChatMessage, ChatRequest, ChatResponse, ChatUsage } from './types.js';

// A message in the Chat Completions format: an assistant's tool calls as `tool_calls`
// (`type: 'function'`, arguments as JSON text), a tool result as role `tool` with `tool_call_id`.
function wireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  if (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0) {
    return {
      role: 'assistant',
      content: m.content.length > 0 ? m.content : null,
      tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  return { role: m.role, content: m.content };
}

const usageSchema = z
  .object({
    prompt_tokens: z.number().optional(),
    completion_tokens: z.number().optional(),
    total_tokens: z.number().optional(),
  })
  .nullish();

const responseSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string().min(1).max(256),
                function: z.object({ name: z.string().min(1).max(256), arguments: z.string().default('{}') }),
              }),
            )
            .nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usageSchema,
});

const chunkSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .optional(),
  usage: usageSchema,
  error: z.object({ message: z.string().optional(), type: z.string().optional(), code: z.unknown().optional() }).optional(),
});

function usageOf(u: z.infer<typeof usageSchema>): ChatUsage | undefined {
  if (!u) return undefined;
  return { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens, totalTokens: u.total_tokens };
}

/** Options of the OpenAI-compatible providers. */
export interface OpenAICompatibleOptions extends HttpProviderOptions {
  /** Body field for the token limit: `max_completion_tokens` (OpenAI) or `max_tokens` (older / compatible APIs). */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Ask for usage in the last stream chunk (`stream_options.include_usage`; OpenAI only). */
  streamUsage?: boolean;
}

/**
 * A provider for any OpenAI-compatible Chat Completions API: POST `{baseUrl}/chat/completions`
 * with `Authorization: Bearer <apiKey>`; streams are SSE `data: {chunk}` lines ending with
 * `data: [DONE]`.
 */
export class OpenAICompatibleProvider extends HttpChatProvider {
  /** Short provider name. */
  readonly name: string;
  protected readonly path = '/chat/completions';
  private readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';
  private readonly streamUsage: boolean;

  /** `name` labels errors; `defaultBaseUrl` applies when `options.baseUrl` is unset. */
  constructor(options: OpenAICompatibleOptions, name = 'openai-compatible', defaultBaseUrl = 'https://api.openai.com/v1') {
    super(options, defaultBaseUrl);
    this.name = name;
    this.maxTokensField = options.maxTokensField ?? 'max_tokens';
    this.streamUsage = options.streamUsage ?? false;
  }

  protected authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}` };
  }

  protected requestBody(request: ChatRequest, stream: boolean): unknown {
    const body: Record<string, unknown> = {
      model: request.model ?? this.model,
      messages: request.messages.map(wireMessage),
    };
    if (request.tools && request.tools.length > 0 && !stream) {
      body.tools = request.tools.map((t) => ({
        type: 'function',
        function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: toolParameters(t) },
      }));
    }
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.maxTokens !== undefined) body[this.maxTokensField] = request.maxTokens;
    if (stream) {
      body.stream = true;
      if (this.streamUsage) body.stream_options = { include_usage: true };
    }
    return body;
  }

  protected parseResponse(body: unknown): ChatResponse {
    const r = responseSchema.safeParse(body);
    if (!r.success)
      throw new LLMResponseError(`${this.name} response does not have the expected shape: ${z.prettifyError(r.error).slice(0, 300)}`, { provider: this.name });
    const choice = r.data.choices[0]!;
    const out: ChatResponse = { content: choice.message.content ?? '', model: r.data.model ?? this.model };
    const usage = usageOf(r.data.usage);
    if (usage) out.usage = usage;
    if (choice.finish_reason) out.finishReason = choice.finish_reason;
    const calls = choice.message.tool_calls ?? [];
    if (calls.length > 0) out.toolCalls = calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
    return out;
  }

  protected streamHandler(): (event: EventSourceMessage) => StreamStep {
    let usage: ChatUsage | undefined;
    let finishReason: string | undefined;
    return (event) => {
      if (event.data.trim() === '[DONE]') {
        const last = { delta: '', ...(usage ? { usage } : {}), ...(finishReason ? { finishReason } : {}) };
        return { chunks: [last], done: true };
      }
      const r = chunkSchema.safeParse(parseEventJson(event, this.name));
      if (!r.success) throw new LLMResponseError(`${this.name} stream chunk does not have the expected shape`, { provider: this.name });
      if (r.data.error) {
        const msg = `${this.name} stream error: ${r.data.error.message ?? r.data.error.type ?? 'unknown'}`.slice(0, 500);
        if (r.data.error.type === 'rate_limit_exceeded' || r.data.error.code === 'rate_limit_exceeded')
          throw new LLMRateLimitError(msg, { provider: this.name });
        throw new LLMServerError(msg, { provider: this.name });
      }
      usage = usageOf(r.data.usage) ?? usage;
      const choice = r.data.choices?.[0];
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      const text = choice?.delta?.content;
      return { chunks: text ? [{ delta: text }] : [], done: false };
    };
  }
}

/** Options of {@link OpenAIProvider}. */
export type OpenAIProviderOptions = HttpProviderOptions;

/**
 * OpenAI (`https://api.openai.com/v1`, POST `/chat/completions`). Sends the token limit as
 * `max_completion_tokens` and asks for usage at the end of streams.
 */
export class OpenAIProvider extends OpenAICompatibleProvider {
  constructor(options: OpenAIProviderOptions) {
    super({ maxTokensField: 'max_completion_tokens', streamUsage: true, ...options }, 'openai', 'https://api.openai.com/v1');
  }
}

/** Options of {@link MistralProvider}. */
export type MistralProviderOptions = HttpProviderOptions;

/** Mistral (`https://api.mistral.ai/v1`, POST `/chat/completions`, OpenAI-like, `max_tokens`). */
export class MistralProvider extends OpenAICompatibleProvider {
  constructor(options: MistralProviderOptions) {
    super({ maxTokensField: 'max_tokens', streamUsage: false, ...options }, 'mistral', 'https://api.mistral.ai/v1');
  }
}
