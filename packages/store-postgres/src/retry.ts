/**
 * Bounded retries with jittered exponential backoff for transient connection errors, and the
 * classification of PostgreSQL / socket errors into transient or not.
 */
import { AbortError, ConfigError, StoreError, throwIfAborted } from '@converge/core';

/** How hard a store tries before it reports `ERR_STORE_UNAVAILABLE`. */
export interface RetryOptions {
  /** Attempts in all, the first included (default `POSTGRES_DEFAULT_RETRY_ATTEMPTS`, 5). */
  attempts?: number;
  /** Delay before the first retry in ms, doubled each time (default 100). */
  baseDelayMs?: number;
  /** Longest delay between two attempts in ms (default 2000). */
  maxDelayMs?: number;
}

/** Default attempts per operation, the first included. */
export const POSTGRES_DEFAULT_RETRY_ATTEMPTS = 5;
/** Default delay before the first retry (ms). */
export const POSTGRES_DEFAULT_RETRY_BASE_DELAY_MS = 100;
/** Default cap on the delay between retries (ms). */
export const POSTGRES_DEFAULT_RETRY_MAX_DELAY_MS = 2000;

/** Resolved retry settings. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the first retry, ms. */
  baseDelayMs: number;
  /** Cap on the delay between attempts, ms. */
  maxDelayMs: number;
}

/** Fills defaults and checks `options`; throws `ConfigError` for a bad value. */
export function resolveRetry(options: RetryOptions | undefined): RetryPolicy {
  const attempts = options?.attempts ?? POSTGRES_DEFAULT_RETRY_ATTEMPTS;
  const baseDelayMs = options?.baseDelayMs ?? POSTGRES_DEFAULT_RETRY_BASE_DELAY_MS;
  const maxDelayMs = options?.maxDelayMs ?? POSTGRES_DEFAULT_RETRY_MAX_DELAY_MS;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) throw new ConfigError(`retry.attempts must be an integer in 1..100, got ${attempts}`, { key: 'retry.attempts' });
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= baseDelayMs) || maxDelayMs > 60_000) {
    throw new ConfigError('retry delays must satisfy 0 <= baseDelayMs <= maxDelayMs <= 60000', { key: 'retry' });
  }
  return { attempts, baseDelayMs, maxDelayMs };
}

/** Delay before retry number `n` (0-based): full jitter over an exponential, capped. */
export function backoffDelay(policy: RetryPolicy, n: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(n, 30));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Waits `ms`, or rejects with `AbortError` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError('the operation was aborted', { cause: signal.reason }));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError('the operation was aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'ENOTCONN']);
// SQLSTATEs that mean "the connection or server went away / is not ready", not "your query is wrong".
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);
const TRANSIENT_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /connection timeout/i, /not queryable/i, /client has encountered a connection error/i, /socket closed/i];

/** Whether `err` is a connection-level failure worth retrying (as opposed to a bad query or bad data). */
export function isTransient(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(isTransient);
  if (err === null || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string') {
    if (TRANSIENT_SOCKET_CODES.has(e.code) || TRANSIENT_SQLSTATES.has(e.code) || e.code.startsWith('08')) return true;
  }
  return typeof e.message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(e.message as string));
}

/** What `withRetry` reports to the store's counters. */
export interface RetryHooks {
  /** Called before each retry, with the error that caused it. */
  onRetry(err: unknown, attempt: number): void;
  /** Called when every attempt failed with a transient error. */
  onUnavailable(err: unknown): void;
}

/**
 * Runs `op` up to `policy.attempts` times while it fails with a transient error, sleeping a
 * jittered backoff in between. Exhaustion → `StoreError` `ERR_STORE_UNAVAILABLE` (with the
 * last error as `cause`); any other error is passed to `wrap`.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  what: string,
  key: string | undefined,
  op: () => Promise<T>,
  hooks: RetryHooks,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await op();
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (attempt + 1 >= policy.attempts) {
        hooks.onUnavailable(err);
        throw new StoreError(`PostgreSQL unavailable: ${what} failed after ${policy.attempts} attempts: ${(err as Error).message ?? String(err)}`, {
          key,
          code: 'ERR_STORE_UNAVAILABLE',
          cause: err,
        });
      }
      hooks.onRetry(err, attempt + 1);
      await sleep(backoffDelay(policy, attempt), signal);
    }
  }
}
