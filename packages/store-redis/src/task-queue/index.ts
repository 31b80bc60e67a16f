/**
 * `@converge/store-redis/task-queue`: the Redis-native `TaskQueue` (one Lua script per
 * transition over per-pool sorted sets and a hash per task, batch claims, pub/sub wake-ups).
 * @packageDocumentation
 */
export {
  RedisTaskQueue,
  REDIS_QUEUE_DEFAULT_CLAIM_SCAN,
  REDIS_QUEUE_DEFAULT_CLIENT_NAME,
  REDIS_QUEUE_DEFAULT_CONNECT_TIMEOUT_MS,
  REDIS_QUEUE_DEFAULT_LIST_SCAN,
  REDIS_QUEUE_DEFAULT_MAX_QUEUED_COMMANDS,
  REDIS_QUEUE_DEFAULT_POLL_MS,
  REDIS_QUEUE_DEFAULT_PREFIX,
  type RedisTaskQueueOptions,
  type RedisTaskQueueStats,
} from './redis-task-queue.js';
export { REDIS_QUEUE_DEFAULT_HELD_RECORDS } from './held.js';
export { REDIS_QUEUE_DEFAULT_BATCH_BYTES, REDIS_QUEUE_DEFAULT_BATCH_MAX } from './coalesce.js';
