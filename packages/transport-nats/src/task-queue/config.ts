// Options, defaults and small checks of the JetStream task queue.
import { AbortError, ConfigError, ValidationError, throwIfAborted, type TaskQueueDefaults } from '@converge/core';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';

/** Default name of a JetStreamTaskQueue (stream `CVQ_<name>`, bucket `cvq_<name>`, subjects `cvq.<name>.…`): `converge`. */
export const JETSTREAM_QUEUE_DEFAULT_NAME = 'converge';
/**
 * Least ack wait of the pool consumers: 5,000 ms. The default ack wait is the larger of this and
 * twice the default lease ({@link jetstreamQueueAckWaitMs}).
 */
export const JETSTREAM_QUEUE_MIN_ACK_WAIT_MS = 5_000;

/**
 * Default ack wait of the pool consumers for a default lease of `leaseMs`: twice the lease, at
 * least {@link JETSTREAM_QUEUE_MIN_ACK_WAIT_MS}. A message handed out and never acked comes
 * back after the ack wait, and some are never claimed at all: those a dead process's
 * still-open fetches received (no record was written, so the sweep cannot take them back).
 * A holder that is alive either extends (which resets the ack wait) or has outlived its lease.
 */
export function jetstreamQueueAckWaitMs(leaseMs: number): number {
  return Math.max(2 * leaseMs, JETSTREAM_QUEUE_MIN_ACK_WAIT_MS);
}
/** Default most tasks the stream holds (live plus dead letters; submit beyond → `QueueFullError`): 1,000,000. */
export const JETSTREAM_QUEUE_DEFAULT_MAX_TASKS = 1_000_000;
/** Default most claimed (and nak-delayed) messages per pool consumer (`max_ack_pending`): 10,000. */
export const JETSTREAM_QUEUE_DEFAULT_MAX_ACK_PENDING = 10_000;
/** Default deliveries of one message after which its task is dead-lettered (`failureReason: 'max-deliver'`): 1,000. */
export const JETSTREAM_QUEUE_DEFAULT_MAX_DELIVER = 1_000;
/** Default `Nats-Msg-Id` duplicate window of the stream: 120 s. */
export const JETSTREAM_QUEUE_DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
/** Nak delay of a message a claim skips a second time (not claimable by this agent): 100 ms, so a waiting claim does not spin on it. */
export const JETSTREAM_QUEUE_SKIP_DELAY_MS = 100;
/**
 * Expiry sent with a claim's no-wait fetch: 20 ms (so a claim that finds nothing answers after
 * at most this). Without one, a no-wait fetch that arrives while messages are available but
 * other fetches take them first stays parked on the server until the next message (a claim
 * hanging on an empty pool); with one, the server answers within it (and hands it a message
 * that becomes available meanwhile, such as one whose nak delay runs out).
 */
export const JETSTREAM_QUEUE_NO_WAIT_EXPIRES_MS = 20;
/**
 * Expiry of this client's first no-wait fetch on a pool's consumer: 1,000 ms. The server's first
 * fetch on a consumer with a long backlog takes a while (tens of ms on a busy machine), and a
 * request whose short expiry ran out meanwhile was seen to get no answer at all: the claim would
 * then end with nothing after the pull's grace period, as if the pool were empty.
 */
export const JETSTREAM_QUEUE_FIRST_FETCH_EXPIRES_MS = 1_000;
/**
 * Default read-ahead of a pool's fetches: 32 messages. While one client's claims come back to back
 * (its last fetch was full, under 250 ms ago), its fetches ask for up to this many more, kept for
 * its next claims (a claim then costs its record write, not a fetch round trip too) and given back
 * after 250 ms unclaimed. The price: a client SIGKILLed meanwhile strands those until the ack wait.
 */
export const JETSTREAM_QUEUE_DEFAULT_READ_AHEAD = 32;
/** Longest pool id (it becomes a subject token and a consumer name): 128 characters. */
export const JETSTREAM_QUEUE_MAX_POOL_ID = 128;
/** How long a losing idempotent submit waits for the winner's record to appear: 2 s. */
export const IDEMPOTENT_WAIT_MS = 2_000;
/** CAS rounds of one call before it gives up with `ConflictError` (another client keeps winning). */
export const CAS_ROUNDS = 8;

/** Options of `new JetStreamTaskQueue`. */
export interface JetStreamTaskQueueOptions {
  /** Server URL(s) to connect to (or pass `connection`). */
  servers?: string | string[];
  /**
   * More nats.js connection options (auth, TLS, name) when this queue connects. `noAsyncTraces`
   * defaults to true here: with it off, nats.js builds two error objects (stack traces) for every
   * request, a tenth of the client's time on the claim + report path.
   */
  connectOptions?: Omit<ConnectionOptions, 'servers'>;
  /** A connection to use (not closed by `stop`). */
  connection?: NatsConnection;
  /** Queue name (`[A-Za-z0-9_-]`, at most 32 characters; default `JETSTREAM_QUEUE_DEFAULT_NAME`). Every client of a queue uses the same. */
  name?: string;
  /** Unix ms clock stamped into leases and retry times (default `Date.now`; every client must agree). */
  clock?: () => number;
  /** Lease, retry and backoff defaults. */
  defaults?: TaskQueueDefaults;
  /** Tasks one `expire` sweep handles (default `DEFAULT_EXPIRE_LIMIT`). */
  expireLimit?: number;
  /**
   * Ack wait of the pool consumers (default `jetstreamQueueAckWaitMs(defaults.leaseMs)`: twice
   * the default lease, at least 5 s). Every client of a queue must use the same (see
   * `onConsumerMismatch`).
   */
  ackWaitMs?: number;
  /**
   * What to do when a pool consumer already exists with another ack wait or `max_ack_pending`
   * than this client's (made by a client with other options or an older version):
   * `'error'` (default) fails the call that needed it with `ConfigError` (key `ackWaitMs`, the
   * differences in the message); `'update'` changes the consumer to this client's settings
   * (other clients keep working; the last to update wins).
   */
  onConsumerMismatch?: 'error' | 'update';
  /** Most tasks in the stream (default `JETSTREAM_QUEUE_DEFAULT_MAX_TASKS`; the bucket holds 3× as many entries). */
  maxTasks?: number;
  /** `max_ack_pending` of each pool consumer (default `JETSTREAM_QUEUE_DEFAULT_MAX_ACK_PENDING`). */
  maxAckPending?: number;
  /**
   * Messages a pool's fetch reads ahead for this client's next claims while they come back to
   * back (default `JETSTREAM_QUEUE_DEFAULT_READ_AHEAD`; 0: none, every claim fetches).
   */
  readAhead?: number;
  /** Deliveries before a task is dead-lettered (default `JETSTREAM_QUEUE_DEFAULT_MAX_DELIVER`). */
  maxDeliver?: number;
  /**
   * Whether retry backoffs run on the server's clock (default true): `fail` naks with the backoff
   * as delay. `false` keeps them in the records only: the message comes back at once and claims
   * skip it until its `notBefore` by this queue's `clock` (for a clock the server does not
   * follow, like a test clock; each claim then redelivers the tasks still in backoff).
   */
  serverTimers?: boolean;
}

/** Counters of what this client refused or repaired (bad input is counted, never dropped silently). */
export interface JetStreamQueueStats {
  /** Messages whose task record is missing or unreadable (terminated). */
  orphanMessages: number;
  /** Tasks dead-lettered because their message passed `maxDeliver` deliveries. */
  maxDeliverDeadLetters: number;
  /** Sweep-hint writes the server refused or did not confirm in time (such a task's lease is then only taken back after its message's ack wait). */
  hintWriteFailures: number;
  /** Fetch (pull) requests this client sent: concurrent no-wait claims of a pool share one. */
  fetches: number;
  /** Messages read ahead that no claim of this client took within 250 ms (given back with a nak). */
  readAheadGivenBack: number;
  /** Messages delivered after the claim that fetched them stopped waiting (an aborted wait, a fetch the server left open): given back with a nak. */
  lateDeliveries: number;
}

/** What a queue name must look like. */
export const NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** Checks a task id argument (`ValidationError`). */
export function requireId(id: string): string {
  if (typeof id !== 'string' || id.length === 0) throw new ValidationError('taskId must be a non-empty string');
  return id;
}

/** Checks a positive integer option (`ConfigError`). */
export function positive(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer`, { key: name });
  return v;
}

/** Checks a non-negative integer option (`ConfigError`). */
export function nonNegative(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new ConfigError(`${name} must be a non-negative integer`, { key: name });
  return v;
}

/** Waits `ms` (`AbortError` on abort). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError('aborted', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
