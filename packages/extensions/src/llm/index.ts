/**
 * `@converge/extensions/llm`: a provider-neutral chat interface (`LLMProvider`), providers for
 * OpenAI, Anthropic and Mistral (and any OpenAI-compatible server) over `fetch`, with deadlines,
 * retries and SSE streaming, typed errors, and `LLMAgent`, an agent that asks a model for
 * decisions and keeps only those that pass the decision schema and its policy.
 * @packageDocumentation
 */
export * from './types.js';
export * from './errors.js';
export {
  DEFAULT_LLM_TIMEOUT_MS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  MAX_ERROR_BODY_BYTES,
  parseRetryAfter,
  type RetryOptions,
} from './http.js';
export { HttpChatProvider, type HttpProviderOptions, type StreamStep } from './base.js';
export * from './openai.js';
export * from './anthropic.js';
export * from './decision-schema.js';
export * from './output.js';
export * from './llm-agent.js';
export {
  DEFAULT_MAX_TOOL_TURNS,
  DEFAULT_MAX_CONVERSATION_CHARS,
  DEFAULT_MAX_TOOL_RESULT_CHARS,
  MAX_TOOL_ARGUMENT_CHARS,
  parseToolArguments,
  type ToolArguments,
} from './tool-loop.js';
