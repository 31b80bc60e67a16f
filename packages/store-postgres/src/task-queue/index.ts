/**
 * `@converge/store-postgres/task-queue`: the PostgreSQL-native `TaskQueue` (one table, one
 * statement per transition, `FOR UPDATE SKIP LOCKED` batch claims, LISTEN/NOTIFY wake-ups).
 * @packageDocumentation
 */
export {
  PostgresTaskQueue,
  POSTGRES_QUEUE_DEFAULT_MAX_CONNECTIONS,
  POSTGRES_QUEUE_DEFAULT_POLL_MS,
  POSTGRES_QUEUE_DEFAULT_TABLE,
  POSTGRES_QUEUE_TYPES,
  type PostgresTaskQueueOptions,
  type PostgresTaskQueueStats,
} from './postgres-task-queue.js';
