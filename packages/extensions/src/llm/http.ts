// HTTP plumbing shared by the providers: one deadline per call, retries with exponential
// backoff and jitter (honouring Retry-After), bounded body reads and SSE parsing.
import { setTimeout as delay } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { AbortError, exponentialBackoff } from '@converge/core';
import {
  LLMAuthError,
  LLMBadRequestError,
  LLMConnectionError,
  LLMError,
  LLMRateLimitError,
  LLMResponseError,
  LLMServerError,
  LLMTimeoutError,
} from './errors.js';

/** Default deadline of one provider call, retries and stream included (60 s). */
export const DEFAULT_LLM_TIMEOUT_MS = 60_000;
/** Default number of retries after the first attempt (429, 408, 5xx, network errors). */
export const DEFAULT_MAX_RETRIES = 3;
/** Default first backoff delay; doubles each retry, with jitter (500 ms). */
export const DEFAULT_BASE_DELAY_MS = 500;
/** Default cap on one backoff delay; a longer `Retry-After` ends the retries (30 s). */
export const DEFAULT_MAX_DELAY_MS = 30_000;
/** Default limit on a response body, JSON or a whole SSE stream (8 MiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** How much of an error body is read to find the server's message (64 KiB). */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Longest server error message kept in an error (characters). */
const MAX_ERROR_MESSAGE_CHARS = 500;

/** Retry settings of a provider. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 disables retrying). */
  maxRetries?: number;
  /** First backoff delay in ms (default 500), doubled per retry, jittered to 50–100 %. */
  baseDelayMs?: number;
  /** Cap on one delay in ms (default 30 000); a server asking for longer ends the retries. */
  maxDelayMs?: number;
}

/** The deadline and cancellation of one call. */
export class CallContext {
  /** Aborted by the caller's signal, the deadline or `done()`. */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly deadline: number;
  private timedOut = false;
  private readonly onCallerAbort = (): void => this.controller.abort(this.caller?.reason);

  constructor(
    private readonly caller: AbortSignal | undefined,
    readonly timeoutMs: number,
    readonly provider: string,
  ) {
    this.signal = this.controller.signal;
    this.deadline = Date.now() + timeoutMs;
    // A cleared setTimeout rather than AbortSignal.timeout: the timer ends with the call.
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new LLMTimeoutError(timeoutMs, { provider }));
    }, timeoutMs);
    if (caller?.aborted) this.onCallerAbort();
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  /** Milliseconds left before the deadline. */
  remainingMs(): number {
    return this.deadline - Date.now();
  }

  /** The error to throw once `signal` has fired: `AbortError` (caller) or `LLMTimeoutError`. */
  abortError(cause?: unknown): Error {
    if (this.timedOut && !this.caller?.aborted) return new LLMTimeoutError(this.timeoutMs, { provider: this.provider, cause });
    return new AbortError('the LLM call was aborted', { cause: this.caller?.reason ?? cause });
  }

  /** Maps anything thrown while waiting on the network to a typed error. */
  wrap(err: unknown, fallback: (cause: unknown) => LLMError): Error {
    if (this.signal.aborted) return this.abortError(err);
    if (err instanceof LLMError || AbortError.is(err)) return err;
    return fallback(err);
  }

  /** Ends the call: clears the timer and releases the connection. Idempotent. */
  done(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
    if (!this.controller.signal.aborted) this.controller.abort(new AbortError('the LLM call finished'));
  }
}

async function sleep(ms: number, ctx: CallContext): Promise<void> {
  try {
    await delay(ms, undefined, { signal: ctx.signal });
  } catch {
    throw ctx.abortError();
  }
}

/**
 * The wait a response asks for, in ms: `retry-after-ms` (OpenAI), else `Retry-After` as
 * seconds (decimals accepted) or an HTTP date. `undefined` when absent or unreadable.
 */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const v = headers.get('retry-after');
  if (v === null) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Reads a body up to `limit` bytes; throws `LLMResponseError` beyond it. */
export async function readBounded(res: Response, ctx: CallContext, limit: number, truncate = false): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        if (truncate) break;
        throw new LLMResponseError(`response body exceeds ${limit} bytes`, { provider: ctx.provider, status: res.status });
      }
      text += decoder.decode(value, { stream: true });
    }
    return text + decoder.decode();
  } catch (err) {
    throw ctx.wrap(err, (cause) => new LLMResponseError('the response body could not be read', { provider: ctx.provider, status: res.status, cause }));
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Reads and parses a JSON body; malformed JSON is an `LLMResponseError`. */
export async function readJson(res: Response, ctx: CallContext, limit: number): Promise<unknown> {
  const text = await readBounded(res, ctx, limit);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new LLMResponseError('the response body is not valid JSON', { provider: ctx.provider, status: res.status, cause });
  }
}

/** Yields the server-sent events of a streamed body (parsed by `eventsource-parser`), bounded in bytes. */
export async function* readSse(res: Response, ctx: CallContext, limit: number): AsyncGenerator<EventSourceMessage> {
  if (!res.body) throw new LLMResponseError('the stream response has no body', { provider: ctx.provider, status: res.status });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => queue.push(e) });
  let total = 0;
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw ctx.wrap(err, (cause) => new LLMResponseError('the stream broke off', { provider: ctx.provider, cause }));
      }
      if (chunk.done) {
        parser.feed(decoder.decode() + '\n\n'); // flush a last event missing its blank line
        while (queue.length > 0) yield queue.shift()!;
        return;
      }
      total += chunk.value.byteLength;
      if (total > limit) throw new LLMResponseError(`stream exceeds ${limit} bytes`, { provider: ctx.provider });
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      while (queue.length > 0) yield queue.shift()!;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** What `postWithRetry` needs to know about the request. */
export interface PostSpec {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  fetch: typeof fetch;
  retry: Required<RetryOptions>;
  /** Secrets to scrub from any text a server echoes back (the API key). */
  secrets: readonly string[];
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}

function serverMessage(text: string): string {
  let msg = text;
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const m = typeof j.error === 'object' ? j.error?.message : (j.error ?? j.message ?? j.detail);
    if (typeof m === 'string') msg = m;
    else if (m !== undefined) msg = JSON.stringify(m);
  } catch {
    // not JSON: keep the text
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return msg.length > MAX_ERROR_MESSAGE_CHARS ? msg.slice(0, MAX_ERROR_MESSAGE_CHARS) + '…' : msg;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * POSTs JSON, retrying 408/429/5xx responses and network errors up to `retry.maxRetries` times
 * (exponential backoff with jitter, or the server's `Retry-After`; a wait beyond `maxDelayMs` or
 * past the deadline ends the retries). Returns the first 2xx response; throws the typed error of
 * the last failure otherwise.
 */
export async function postWithRetry(spec: PostSpec, ctx: CallContext): Promise<Response> {
  const { maxRetries, baseDelayMs, maxDelayMs } = spec.retry;
  const body = JSON.stringify(spec.body);
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOnce(spec, body, ctx);
    if (outcome instanceof Response) return outcome;
    const { failure, wait } = outcome;
    if (wait !== undefined && wait > maxDelayMs) throw failure;
    if (attempt >= maxRetries) throw failure;
    const delay = wait ?? exponentialBackoff(attempt, baseDelayMs, maxDelayMs, true);
    if (delay >= ctx.remainingMs()) throw failure;
    await sleep(delay, ctx);
  }
}

// One attempt: a 2xx response, a retryable failure (with the wait the server asked for), or a
// thrown final error (auth, bad request, abort, timeout).
async function attemptOnce(spec: PostSpec, body: string, ctx: CallContext): Promise<Response | { failure: LLMError; wait?: number }> {
  let res: Response;
  try {
    res = await spec.fetch(spec.url, { method: 'POST', headers: spec.headers, body, signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.abortError(err);
    const reason = redact(err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err), spec.secrets);
    return { failure: new LLMConnectionError(`request to ${ctx.provider} failed: ${reason}`, { provider: ctx.provider, cause: err }) };
  }
  if (res.ok) return res;
  const status = res.status;
  const raw = await readBounded(res, ctx, MAX_ERROR_BODY_BYTES, true).catch((e: unknown) => {
    if (ctx.signal.aborted) throw ctx.abortError(e);
    return '';
  });
  const detail = redact(serverMessage(raw), spec.secrets);
  const text = `${ctx.provider} answered HTTP ${status}${detail ? `: ${detail}` : ''}`;
  const opts = { provider: ctx.provider, status };
  if (status === 401 || status === 403) throw new LLMAuthError(text, opts);
  if (!isRetryableStatus(status)) throw new LLMBadRequestError(text, opts);
  const wait = parseRetryAfter(res.headers);
  const failure = status === 429 ? new LLMRateLimitError(text, { ...opts, retryAfterMs: wait }) : new LLMServerError(text, opts);
  return { failure, wait };
}
