/**
 * Bounded retries with jittered exponential backoff for a store's transient connection errors.
 * Which errors are transient is the adapter's business (it knows its driver); the loop, the
 * delays and the `ERR_STORE_UNAVAILABLE` report are shared.
 */
import { exponentialBackoff } from '../backoff.js';
import { AbortError, ConfigError, StoreError, throwIfAborted } from '../errors.js';

/** How hard a store tries before it reports `ERR_STORE_UNAVAILABLE`. */
export interface StoreRetryOptions {
  /** Attempts in all, the first included (default `STORE_DEFAULT_RETRY_ATTEMPTS`, 5). */
  attempts?: number;
  /** Delay before the first retry in ms, doubled each time (default 100). */
  baseDelayMs?: number;
  /** Longest delay between two attempts in ms (default 2000). */
  maxDelayMs?: number;
}

/** Resolved retry settings: every field of `StoreRetryOptions` filled in. */
export type StoreRetryPolicy = Required<StoreRetryOptions>;

/** Default retry settings of a store: 5 attempts (the first included), 100 ms before the first retry, delays capped at 2,000 ms. */
export const STORE_RETRY_DEFAULTS = Object.freeze({ attempts: 5, baseDelayMs: 100, maxDelayMs: 2000 }) satisfies StoreRetryPolicy;
/** Default attempts per operation, the first included. */
export const STORE_DEFAULT_RETRY_ATTEMPTS = STORE_RETRY_DEFAULTS.attempts;
/** Default delay before the first retry (ms). */
export const STORE_DEFAULT_RETRY_BASE_DELAY_MS = STORE_RETRY_DEFAULTS.baseDelayMs;
/** Default cap on the delay between retries (ms). */
export const STORE_DEFAULT_RETRY_MAX_DELAY_MS = STORE_RETRY_DEFAULTS.maxDelayMs;

/** Fills defaults and checks `options`; throws `ConfigError` for a bad value. */
export function resolveStoreRetry(options: StoreRetryOptions | undefined): StoreRetryPolicy {
  const attempts = options?.attempts ?? STORE_RETRY_DEFAULTS.attempts;
  const baseDelayMs = options?.baseDelayMs ?? STORE_RETRY_DEFAULTS.baseDelayMs;
  const maxDelayMs = options?.maxDelayMs ?? STORE_RETRY_DEFAULTS.maxDelayMs;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100)
    throw new ConfigError(`retry.attempts must be an integer in 1..100, got ${attempts}`, { key: 'retry.attempts' });
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= baseDelayMs) || maxDelayMs > 60_000) {
    throw new ConfigError('retry delays must satisfy 0 <= baseDelayMs <= maxDelayMs <= 60000', { key: 'retry' });
  }
  return { attempts, baseDelayMs, maxDelayMs };
}

/** Delay before retry number `n` (0-based): full jitter over an exponential, capped. */
export function storeRetryDelay(policy: StoreRetryPolicy, n: number): number {
  return Math.round(exponentialBackoff(n, policy.baseDelayMs, policy.maxDelayMs, true));
}

/**
 * Waits `ms` (at once for `ms <= 0`), or rejects with `AbortError` as soon as `signal` aborts.
 * Core's one sleep: browser-safe, so it cannot use `node:timers/promises`; Node-only packages use that.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortError('the operation was aborted', { cause: signal.reason }));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
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

/** What `withStoreRetry` reports to the store's counters. */
export interface StoreRetryHooks {
  /** Called before each retry, with the error that caused it. */
  onRetry(err: unknown, attempt: number): void;
  /** Called when every attempt failed with a transient error. */
  onUnavailable(err: unknown): void;
}

/**
 * Node socket error codes (`err.code`) that mean the connection failed or went away, not that
 * the request was wrong: every server-backed store retries these (its own codes come on top).
 */
export const TRANSIENT_SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ENOTCONN',
]);

/** The backend a retry loop talks to: how it is named in errors and which of its errors are worth retrying. */
export interface StoreRetryBackend {
  /** Name of the server in the `ERR_STORE_UNAVAILABLE` message, e.g. `'PostgreSQL'`. */
  name: string;
  /** Whether `err` is a connection-level failure worth retrying (as opposed to a bad query or bad data). */
  isTransient(err: unknown): boolean;
}

/**
 * Runs `op` up to `policy.attempts` times while it fails with an error `backend.isTransient`
 * accepts, sleeping a jittered backoff in between. Exhaustion → `StoreError`
 * `ERR_STORE_UNAVAILABLE` (with the last error as `cause`); any other error is rethrown as is.
 */
export async function withStoreRetry<T>(
  backend: StoreRetryBackend,
  policy: StoreRetryPolicy,
  what: string,
  key: string | undefined,
  op: () => Promise<T>,
  hooks: StoreRetryHooks,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await op();
    } catch (err) {
      if (!backend.isTransient(err)) throw err;
      if (attempt + 1 >= policy.attempts) {
        hooks.onUnavailable(err);
        throw new StoreError(`${backend.name} unavailable: ${what} failed after ${policy.attempts} attempts: ${(err as Error).message ?? String(err)}`, {
          key,
          code: 'ERR_STORE_UNAVAILABLE',
          cause: err,
        });
      }
      hooks.onRetry(err, attempt + 1);
      await abortableSleep(storeRetryDelay(policy, attempt), signal);
    }
  }
}
