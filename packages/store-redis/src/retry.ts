/**
 * The classification of Redis / socket errors into transient or not.
 * The retry loop itself (`withStoreRetry`, `resolveStoreRetry`) is in `@converge/core`.
 */
import { TRANSIENT_SOCKET_CODES, type StoreRetryBackend } from '@converge/core';

// node-redis error classes (their `name` is plain 'Error'), told apart by their messages.
const TRANSIENT_MESSAGES = [/^socket closed unexpectedly/i, /^connection timeout/i, /^socket timeout/i, /^disconnects client/i];
// Server replies that mean "not now" rather than "wrong".
const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN) /;

/** Whether `err` is a connection-level failure worth retrying (as opposed to a bad command or bad data). */
export function isTransient(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(isTransient);
  if (err === null || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string' && TRANSIENT_SOCKET_CODES.has(e.code)) return true;
  if (typeof e.message !== 'string') return false;
  return TRANSIENT_MESSAGES.some((re) => re.test(e.message as string)) || TRANSIENT_REPLIES.test(e.message);
}

/** Redis as `withStoreRetry` sees it: its name in `ERR_STORE_UNAVAILABLE` messages and its transient errors. */
export const REDIS_BACKEND: StoreRetryBackend = { name: 'Redis', isTransient };
