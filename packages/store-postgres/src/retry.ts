/**
 * The classification of PostgreSQL / socket errors into transient or not.
 * The retry loop itself (`withStoreRetry`, `resolveStoreRetry`) is in `@converge/core`.
 */
import { TRANSIENT_SOCKET_CODES, type StoreRetryBackend } from '@converge/core';

// SQLSTATEs that mean "the connection or server went away / is not ready", not "your query is wrong".
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);
const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /not queryable/i,
  /client has encountered a connection error/i,
  /socket closed/i,
];

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

/** PostgreSQL as `withStoreRetry` sees it: its name in `ERR_STORE_UNAVAILABLE` messages and its transient errors. */
export const POSTGRES_BACKEND: StoreRetryBackend = { name: 'PostgreSQL', isTransient };
