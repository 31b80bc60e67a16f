// The provider-neutral chat interface.

/** Who says a chat message. */
export type ChatRole = 'system' | 'user' | 'assistant';

/** One chat message. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A chat completion request. */
export interface ChatRequest {
  /** The conversation; `system` messages become the provider's system prompt. */
  messages: readonly ChatMessage[];
  /** Overrides the provider's default model. */
  model?: string;
  /** Sampling temperature. */
  temperature?: number;
  /** Most tokens to generate (Anthropic requires one: the provider's `maxTokens` default). */
  maxTokens?: number;
  /** Cancels the call (rejects with core `AbortError`). */
  signal?: AbortSignal;
  /** Deadline of the whole call, retries and stream reading included (default: the provider's). */
  timeoutMs?: number;
}

/** Token counts, as the provider reports them. */
export interface ChatUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

/** A chat completion. */
export interface ChatResponse {
  /** The generated text. */
  content: string;
  /** The model that answered. */
  model: string;
  usage?: ChatUsage;
  /** Why generation stopped (`stop`, `length`, `end_turn`, `max_tokens`, ...), as the provider says. */
  finishReason?: string;
}

/** A piece of a streamed completion. The last chunk may have an empty `delta` and carry `usage`. */
export interface ChatChunk {
  delta: string;
  usage?: ChatUsage;
  finishReason?: string;
}

/** A chat model behind some API. */
export interface LLMProvider {
  /** Short provider name (`openai`, `anthropic`, `mistral`, ...). */
  readonly name: string;
  /** One completion. */
  chat(request: ChatRequest): Promise<ChatResponse>;
  /** A streamed completion, chunk by chunk; breaking out of the loop cancels the request. */
  chatStream(request: ChatRequest): AsyncIterable<ChatChunk>;
}
