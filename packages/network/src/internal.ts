/**
 * `@converge/network/internal`: the pieces the transport packages share (framing, the bounded
 * receive and write queues, the inbound byte budget, transport instruments, dial backoff, the
 * idle-connection reaper, `AsyncQueue`). For sibling `@converge/*` packages: no stability
 * promise beyond the version of `@converge/network` they are released with (nats.js style).
 * Browser-safe: nothing behind this entry loads a `node:*` module at run time.
 * @packageDocumentation
 */
export { AsyncQueue, DEFAULT_QUEUE_CAPACITY, type AsyncQueueOptions, type OverflowPolicy, type ShiftOptions } from './async-queue.js';
export * from './framing.js';
export * from './framing-instruments.js';
export { FrameReceiver, DEFAULT_MAX_RECEIVE_QUEUE, DEFAULT_MAX_RECEIVE_QUEUE_BYTES, type PausableSource } from './framing-receiver.js';
export * from './framing-budget.js';
export { WriteQueue, DEFAULT_MAX_QUEUE_PER_PEER, DEFAULT_MAX_QUEUE_BYTES_PER_PEER, type PendingWrite } from './framing-write-queue.js';
export {
  DEFAULT_CONNECT_ATTEMPTS,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  RECONNECT_DEFAULTS,
  backoffDelay,
  resolveBackoff,
  dialWithBackoff,
  type ReconnectOptions,
  type Backoff,
  type DialResult,
} from './backoff.js';
export { IdleReaper, DEFAULT_IDLE_TIMEOUT_MS } from './idle.js';
export type { NetTlsOptions } from './tls-options.js';
export { ReceiverTransport } from './receiver-transport.js';
export { SingleFlight } from './single-flight.js';
