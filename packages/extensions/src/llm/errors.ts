// Typed errors of the LLM providers. Messages never contain the API key (providers redact it
// from anything a server echoes back).
import { ConvergeError, errorClass, type ConvergeErrorOptions } from '@converge/core';

/** Options shared by the LLM errors. */
export interface LLMErrorOptions extends ConvergeErrorOptions {
  /** HTTP status of the response that caused the error, where there was one. */
  status?: number;
  /** Name of the provider (`openai`, `anthropic`, `mistral`, ...). */
  provider?: string;
}

/** Base class of every LLM provider error (`code` `ERR_LLM…`). */
export class LLMError extends ConvergeError {
  /** HTTP status, where the error came from a response. */
  readonly status?: number;
  /** The provider that failed. */
  readonly provider?: string;
  constructor(message: string, code = 'ERR_LLM', options: LLMErrorOptions = {}) {
    super(message, code, options);
    this.name = 'LLMError';
    this.status = options.status;
    this.provider = options.provider;
  }
}

/**
 * `LLMError` in the `(message, { code })` form core's `errorClass` calls a family with; named
 * `LLMError` too, so an error's class names (its brand) read as before: own class, `LLMError`.
 */
class LLMErrorFamily extends LLMError {
  constructor(message: string, options: LLMErrorOptions & { code?: string } = {}) {
    super(message, options.code, options);
  }
}
Object.defineProperty(LLMErrorFamily, 'name', { value: 'LLMError' });

/** A class made by `llmCondition`: `new X(message, { status, provider, cause })`, `X.is(err)`. */
interface LLMConditionClass {
  new (message: string, options?: LLMErrorOptions): LLMError;
  readonly prototype: LLMError;
  is: typeof ConvergeError.is;
}

/** The base of one LLM condition with a fixed `name` and `code` (core's `errorClass` under `LLMError`). */
function llmCondition(name: string, code: string): LLMConditionClass {
  return errorClass(name, code, undefined, LLMErrorFamily);
}

/** The API key was refused (HTTP 401 or 403). Not retried. */
export class LLMAuthError extends llmCondition('LLMAuthError', 'ERR_LLM_AUTH') {}

/** Still rate limited (HTTP 429) after the allowed retries, or asked to wait past the deadline. */
export class LLMRateLimitError extends llmCondition('LLMRateLimitError', 'ERR_LLM_RATE_LIMIT') {
  /** How long the server asked to wait (from `Retry-After` / `retry-after-ms`), if it said. */
  readonly retryAfterMs?: number;
  constructor(message: string, options: LLMErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * `LLMAgent` refused to call its model: its call budget (`maxCallsPerWindow` per
 * `callWindowMs`) is spent. Nothing was consumed; `retryAfterMs` says when a call is allowed
 * again (the runtime keeps the turn's messages queued and retries then).
 */
export class LLMBudgetError extends llmCondition('LLMBudgetError', 'ERR_LLM_BUDGET') {
  /** Milliseconds until the budget allows a call again. */
  readonly retryAfterMs: number;
  constructor(message: string, options: LLMErrorOptions & { retryAfterMs: number }) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The request was refused as invalid (HTTP 400, 404, 422 and other non-retryable 4xx). */
export class LLMBadRequestError extends llmCondition('LLMBadRequestError', 'ERR_LLM_BAD_REQUEST') {}

/** The server failed (HTTP 5xx, or an overload/server error event in a stream) after the allowed retries. */
export class LLMServerError extends llmCondition('LLMServerError', 'ERR_LLM_SERVER') {}

/** The server could not be reached (DNS, refused or reset connection) after the allowed retries. */
export class LLMConnectionError extends llmCondition('LLMConnectionError', 'ERR_LLM_CONNECTION') {}

/** The call did not finish within its `timeoutMs` (retries and stream reading included). */
export class LLMTimeoutError extends llmCondition('LLMTimeoutError', 'ERR_LLM_TIMEOUT') {
  /** The timeout that expired, in ms. */
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options: LLMErrorOptions = {}) {
    super(`the LLM call did not finish within ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}

/** A response that is not what the API promises: malformed JSON, missing fields, a broken stream, oversize. */
export class LLMResponseError extends llmCondition('LLMResponseError', 'ERR_LLM_RESPONSE') {}
