/**
 * `@converge/transport-nats/task-queue`: the JetStream-native `TaskQueue` (a work-queue stream
 * per queue with a subject and a durable pull consumer per pool; task records in a KV-layout
 * bucket with revision CAS; fetch / ack / in-progress / nak-with-delay / term + dead-letter subject).
 * @packageDocumentation
 */
export { JetStreamTaskQueue } from './jetstream-task-queue.js';
export {
  JETSTREAM_QUEUE_MIN_ACK_WAIT_MS,
  jetstreamQueueAckWaitMs,
  JETSTREAM_QUEUE_DEFAULT_DUPLICATE_WINDOW_MS,
  JETSTREAM_QUEUE_DEFAULT_MAX_ACK_PENDING,
  JETSTREAM_QUEUE_DEFAULT_MAX_DELIVER,
  JETSTREAM_QUEUE_DEFAULT_MAX_TASKS,
  JETSTREAM_QUEUE_DEFAULT_NAME,
  JETSTREAM_QUEUE_DEFAULT_READ_AHEAD,
  JETSTREAM_QUEUE_MAX_POOL_ID,
  JETSTREAM_QUEUE_NO_WAIT_EXPIRES_MS,
  JETSTREAM_QUEUE_FIRST_FETCH_EXPIRES_MS,
  JETSTREAM_QUEUE_SKIP_DELAY_MS,
  type JetStreamQueueStats,
  type JetStreamTaskQueueOptions,
} from './config.js';
