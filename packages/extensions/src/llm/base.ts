// The part every HTTP provider shares: options, request validation, the call lifecycle.
import type { EventSourceMessage } from 'eventsource-parser';
import { ConfigError, ValidationError, intOption, positiveIntOption, requireInt } from '@converge/core';
import {
  CallContext,
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_LLM_TIMEOUT_MS,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_MAX_RETRIES,
  postWithRetry,
  readJson,
  readSse,
  type RetryOptions,
} from './http.js';
import { LLMResponseError } from './errors.js';
import type { ChatChunk, ChatRequest, ChatResponse, ChatToolCall, ChatToolSpec, LLMProvider } from './types.js';

/** Options every HTTP provider accepts. */
export interface HttpProviderOptions {
  /** The API key (sent in a header, never logged, scrubbed from error messages). */
  apiKey: string;
  /** Default model for requests that do not name one. */
  model: string;
  /** API root; each provider has its public one as default (use a local URL for tests/proxies). */
  baseUrl?: string;
  /** Default deadline of a call, retries and stream included (default 60 000 ms). */
  timeoutMs?: number;
  /** Retry settings (default 3 retries, 500 ms base delay, 30 s cap). */
  retry?: RetryOptions;
  /** Largest response body or stream accepted, in bytes (default 8 MiB). */
  maxResponseBytes?: number;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** Extra headers sent with every request (e.g. an organisation id). */
  headers?: Record<string, string>;
}

/** What a stream event handler reports: chunks to yield, and whether the stream is finished. */
export interface StreamStep {
  chunks: ChatChunk[];
  done: boolean;
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

/** Base class of the HTTP providers: retries, deadline, bounded reads, SSE. */
export abstract class HttpChatProvider implements LLMProvider {
  /** Short provider name. */
  abstract readonly name: string;
  /** Default model. */
  readonly model: string;
  /** API root, without a trailing slash. */
  readonly baseUrl: string;
  /** Default deadline of a call in ms. */
  readonly timeoutMs: number;
  declare protected readonly apiKey: string;
  protected readonly retry: Required<RetryOptions>;
  protected readonly maxResponseBytes: number;
  protected readonly fetchImpl: typeof fetch;
  protected readonly extraHeaders: Record<string, string>;

  protected constructor(options: HttpProviderOptions, defaultBaseUrl: string) {
    if (typeof options.apiKey !== 'string' || options.apiKey.length === 0) throw new ConfigError('apiKey is required', { key: 'apiKey' });
    if (typeof options.model !== 'string' || options.model.length === 0) throw new ConfigError('model is required', { key: 'model' });
    const baseUrl = options.baseUrl ?? defaultBaseUrl;
    try {
      new URL(baseUrl);
    } catch (cause) {
      throw new ConfigError(`baseUrl is not a URL: ${baseUrl}`, { key: 'baseUrl', cause });
    }
    // Kept off the enumerable fields so that console.log / JSON of a provider never shows it.
    Object.defineProperty(this, 'apiKey', { value: options.apiKey, enumerable: false });
    this.model = options.model;
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = positiveIntOption(options.timeoutMs, DEFAULT_LLM_TIMEOUT_MS, 'timeoutMs');
    this.retry = {
      maxRetries: intOption(options.retry?.maxRetries, DEFAULT_MAX_RETRIES, 'retry.maxRetries', { min: 0 }),
      baseDelayMs: intOption(options.retry?.baseDelayMs, DEFAULT_BASE_DELAY_MS, 'retry.baseDelayMs', { min: 0 }),
      maxDelayMs: intOption(options.retry?.maxDelayMs, DEFAULT_MAX_DELAY_MS, 'retry.maxDelayMs', { min: 0 }),
    };
    this.maxResponseBytes = positiveIntOption(options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes');
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.extraHeaders = { ...(options.headers ?? {}) };
  }

  /** Path under `baseUrl` that chat requests go to. */
  protected abstract readonly path: string;
  /** Authentication and version headers. */
  protected abstract authHeaders(): Record<string, string>;
  /** The provider's JSON request body. */
  protected abstract requestBody(request: ChatRequest, stream: boolean): unknown;
  /** Turns a JSON response into a `ChatResponse`; throws `LLMResponseError` when it does not fit. */
  protected abstract parseResponse(body: unknown): ChatResponse;
  /** Returns a handler for the events of one stream. */
  protected abstract streamHandler(): (event: EventSourceMessage) => StreamStep;

  /** {@inheritDoc LLMProvider.chat} */
  async chat(request: ChatRequest): Promise<ChatResponse> {
    checkRequest(request);
    const ctx = this.context(request);
    try {
      const res = await this.post(request, false, ctx);
      return this.parseResponse(await readJson(res, ctx, this.maxResponseBytes));
    } finally {
      ctx.done();
    }
  }

  /** {@inheritDoc LLMProvider.chatStream} */
  async *chatStream(request: ChatRequest): AsyncGenerator<ChatChunk> {
    checkRequest(request);
    const ctx = this.context(request);
    try {
      const res = await this.post(request, true, ctx);
      const handle = this.streamHandler();
      for await (const event of readSse(res, ctx, this.maxResponseBytes)) {
        const step = handle(event);
        for (const c of step.chunks) yield c;
        if (step.done) return;
      }
      throw new LLMResponseError(`the ${this.name} stream ended before its end marker`, { provider: this.name });
    } finally {
      ctx.done();
    }
  }

  private context(request: ChatRequest): CallContext {
    const timeoutMs = request.timeoutMs === undefined ? this.timeoutMs : requireInt(request.timeoutMs, 'timeoutMs');
    return new CallContext(request.signal, timeoutMs, this.name);
  }

  private post(request: ChatRequest, stream: boolean, ctx: CallContext): Promise<Response> {
    return postWithRetry(
      {
        url: this.baseUrl + this.path,
        headers: {
          ...this.extraHeaders,
          'content-type': 'application/json',
          accept: stream ? 'text/event-stream' : 'application/json',
          ...this.authHeaders(),
        },
        body: this.requestBody(request, stream),
        fetch: this.fetchImpl,
        retry: this.retry,
        secrets: [this.apiKey],
      },
      ctx,
    );
  }
}

function checkRequest(request: ChatRequest): void {
  if (!request || !Array.isArray(request.messages as unknown) || request.messages.length === 0) {
    throw new ValidationError('a chat request needs a non-empty messages array');
  }
  for (const [i, m] of request.messages.entries()) {
    if (!m || !ROLES.has(m.role) || typeof m.content !== 'string') {
      throw new ValidationError(`messages[${i}] must be { role: 'system' | 'user' | 'assistant' | 'tool', content: string }`);
    }
    if (m.role === 'tool' && (typeof m.toolCallId !== 'string' || m.toolCallId.length === 0)) {
      throw new ValidationError(`messages[${i}] is a tool result without a toolCallId`);
    }
    if (
      m.toolCalls !== undefined &&
      (m.role !== 'assistant' ||
        !Array.isArray(m.toolCalls as unknown) ||
        !m.toolCalls.every((c: ChatToolCall) => c && typeof c.id === 'string' && typeof c.name === 'string' && typeof c.arguments === 'string'))
    ) {
      throw new ValidationError(`messages[${i}].toolCalls must be [{ id, name, arguments: string }] on an assistant message`);
    }
  }
  if (
    request.tools !== undefined &&
    (!Array.isArray(request.tools as unknown) || !request.tools.every((t) => t && typeof t.name === 'string' && t.name.length > 0))
  ) {
    throw new ValidationError('tools must be an array of { name, description?, parameters? }');
  }
  if (request.maxTokens !== undefined && (!Number.isSafeInteger(request.maxTokens) || request.maxTokens < 1)) {
    throw new ValidationError('maxTokens must be a positive integer');
  }
  if (request.temperature !== undefined && !Number.isFinite(request.temperature)) throw new ValidationError('temperature must be a finite number');
}

/** The JSON Schema of a tool's arguments: its own, or any object. */
export function toolParameters(tool: ChatToolSpec): Record<string, unknown> {
  return tool.parameters ?? { type: 'object', properties: {} };
}

/** Parses an SSE `data` field as JSON, or throws `LLMResponseError`. */
export function parseEventJson(event: EventSourceMessage, provider: string): unknown {
  try {
    return JSON.parse(event.data);
  } catch (cause) {
    throw new LLMResponseError(`${provider} sent a stream event that is not JSON`, { provider, cause });
  }
}
