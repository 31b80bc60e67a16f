/**
 * `@converge/store-redis`: a Converge `Store` in Redis, on node-redis v5, with atomic Lua-script
 * writes, exactly-once `compareAndSet` across processes and a pub/sub change feed for `watch`.
 * @packageDocumentation
 */
export {
  RedisStore,
  type RedisStoreOptions,
  type RedisStoreLogger,
  type RedisStoreStats,
  globEscape,
  REDIS_DEFAULT_URL,
  REDIS_DEFAULT_PREFIX,
  REDIS_DEFAULT_CONNECT_TIMEOUT_MS,
  REDIS_DEFAULT_MAX_QUEUED_COMMANDS,
  REDIS_DEFAULT_SCAN_COUNT,
  REDIS_DEFAULT_MAX_VALUE_BYTES,
  REDIS_DEFAULT_CLIENT_NAME,
} from './redis-store.js';
export {
  type StoreMetricsSink,
  type StoreRetryOptions as RetryOptions,
  STORE_DEFAULT_RETRY_ATTEMPTS as REDIS_DEFAULT_RETRY_ATTEMPTS,
  STORE_DEFAULT_RETRY_BASE_DELAY_MS as REDIS_DEFAULT_RETRY_BASE_DELAY_MS,
  STORE_DEFAULT_RETRY_MAX_DELAY_MS as REDIS_DEFAULT_RETRY_MAX_DELAY_MS,
  STORE_DEFAULT_MAX_KEY_LENGTH as REDIS_DEFAULT_MAX_KEY_LENGTH,
} from '@converge/core';
