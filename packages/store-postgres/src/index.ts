/**
 * `@converge/store-postgres`: a Converge `Store` in a PostgreSQL table, on `pg`, with
 * exactly-once `compareAndSet` across processes and a LISTEN/NOTIFY change feed for `watch`.
 * @packageDocumentation
 */
export {
  PostgresStore,
  type PostgresStoreOptions,
  type PostgresStoreLogger,
  type PostgresStoreStats,
  POSTGRES_DEFAULT_TABLE,
  POSTGRES_DEFAULT_MAX_CONNECTIONS,
  POSTGRES_DEFAULT_CONNECT_TIMEOUT_MS,
  POSTGRES_DEFAULT_STATEMENT_TIMEOUT_MS,
  POSTGRES_DEFAULT_APPLICATION_NAME,
  POSTGRES_DEFAULT_MAX_VALUE_BYTES,
} from './postgres-store.js';
export {
  type StoreMetricsSink,
  type StoreRetryOptions as RetryOptions,
  STORE_DEFAULT_RETRY_ATTEMPTS as POSTGRES_DEFAULT_RETRY_ATTEMPTS,
  STORE_DEFAULT_RETRY_BASE_DELAY_MS as POSTGRES_DEFAULT_RETRY_BASE_DELAY_MS,
  STORE_DEFAULT_RETRY_MAX_DELAY_MS as POSTGRES_DEFAULT_RETRY_MAX_DELAY_MS,
  STORE_DEFAULT_MAX_KEY_LENGTH as POSTGRES_DEFAULT_MAX_KEY_LENGTH,
} from '@converge/core';
