// The provider-neutral chat interface.

/** Who says a chat message (`tool`: the result of a tool call, answering an assistant's `toolCalls`). */
export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/**
 * A tool call made by the model. `arguments` is the JSON text of the arguments object as the
 * model wrote it (OpenAI and Mistral send text; Anthropic's `input` object is serialised), so
 * that the caller bounds and parses every provider's arguments the same way.
 */
export interface ChatToolCall {
  /** The provider's id of the call (`tool_call_id` / `tool_use_id` of its result). */
  id: string;
  /** The tool's name. */
  name: string;
  /** The arguments, as JSON text. */
  arguments: string;
}

/** A tool offered to the model, in the provider-neutral form each provider maps to its own. */
export interface ChatToolSpec {
  /** The tool's name (`^[a-zA-Z0-9_-]{1,64}$` fits every provider). */
  name: string;
  /** What the tool does, for the model. */
  description?: string;
  /** JSON Schema of the arguments object (default: any object). */
  parameters?: Record<string, unknown>;
}

/** One chat message. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** On an `assistant` message: the tool calls it made. */
  toolCalls?: readonly ChatToolCall[];
  /** On a `tool` message: the id of the call it answers (required there). */
  toolCallId?: string;
  /** On a `tool` message: the call failed (Anthropic `is_error`; other providers see it in `content`). */
  isError?: boolean;
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
  /** Tools the model may call (sent in the provider's native format; `chat` only, streams ignore them). */
  tools?: readonly ChatToolSpec[];
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
  /** Tool calls the model made (absent or empty: a final answer). */
  toolCalls?: ChatToolCall[];
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
