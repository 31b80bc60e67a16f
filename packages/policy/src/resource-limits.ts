/**
 * Enforced resource limits for one agent's executor: concurrent tool calls, outgoing message
 * rate, bytes held in queues, and what one task may ask for (`cpu`, `memory_mb`). The executor
 * asks before it acts; every refusal is counted.
 */
import { availableParallelism, totalmem } from 'node:os';
import { AbortError, LimitExceededError, NotStartedError, ValidationError, type ConvergeErrorOptions } from '@converge/core';
import { checkInteger, checkNumber, type Clock } from './common.js';
import { RateLimiter, type WaitOptions } from './rate-limiter.js';

/** Default largest number of tool calls running at once. */
export const DEFAULT_MAX_CONCURRENT_TOOL_CALLS = 4;
/** Default largest sustained rate of messages per second. */
export const DEFAULT_MAX_MESSAGES_PER_SECOND = 1000;
/** Default largest number of bytes held in queues (64 MiB). */
export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;
/** Default largest number of callers waiting for a tool slot. */
export const DEFAULT_MAX_TOOL_WAITERS = 1000;

/** Task constraint key: CPUs (cores, may be fractional) the task needs. */
export const TASK_CPU_CONSTRAINT = 'cpu';
/** Task constraint key: memory the task needs, in MiB (the reference's `memory_mb`). */
export const TASK_MEMORY_CONSTRAINT = 'memory_mb';

/** Default most CPUs one task may ask for: the host's (`os.availableParallelism()`). */
export function defaultMaxTaskCpu(): number {
  return availableParallelism();
}

/** Default most memory one task may ask for, MiB: the host's total memory (`os.totalmem()`). */
export function defaultMaxTaskMemoryMb(): number {
  return Math.floor(totalmem() / (1024 * 1024));
}

/** A task asks for more `cpu` or `memory_mb` than the agent's `ResourceLimits` give one task. */
export class TaskResourcesError extends LimitExceededError {
  /** The constraint that is over (`cpu` or `memory_mb`). */
  readonly constraint: string;
  /** What the task asked for. */
  readonly requested: number;
  /** What the agent gives one task. */
  readonly limit: number;
  constructor(constraint: string, requested: number, limit: number, options?: ConvergeErrorOptions) {
    super(`the task asks for ${constraint}=${requested}, more than this agent's limit of ${limit}`, options);
    this.name = 'TaskResourcesError';
    this.constraint = constraint;
    this.requested = requested;
    this.limit = limit;
  }
}

/** Options of `ResourceLimits`. */
export interface ResourceLimitsOptions {
  /** Tool calls running at once (default 4). */
  maxConcurrentToolCalls?: number;
  /** Callers that may wait for a tool slot (default 1000); beyond, `acquireToolSlot` throws `LimitExceededError`. */
  maxToolWaiters?: number;
  /** Sustained messages per second (default 1000). */
  maxMessagesPerSecond?: number;
  /** Message burst (default: `maxMessagesPerSecond`, i.e. one second's worth). */
  messageBurst?: number;
  /** Bytes that may be reserved in queues at once (default 64 MiB). */
  maxQueueBytes?: number;
  /** Most CPUs (`constraints.cpu`) one task may ask for (default: the host's `os.availableParallelism()`). */
  maxTaskCpu?: number;
  /** Most memory in MiB (`constraints.memory_mb`) one task may ask for (default: the host's total memory). */
  maxTaskMemoryMb?: number;
  /** Monotonic milliseconds for the message rate (default `performance.now`). */
  clock?: Clock;
}

/** Options of `acquireToolSlot`. */
export interface AcquireToolSlotOptions extends WaitOptions {
  /** Wait for a slot (default `true`); with `false`, a full house throws `LimitExceededError` at once. */
  wait?: boolean;
}

/** Releases a tool slot; calling it more than once has no further effect. */
export type ReleaseToolSlot = () => void;

/** Counters and gauges of `ResourceLimits`. */
export interface ResourceLimitsStats {
  /** Tool calls holding a slot now. */
  activeToolCalls: number;
  /** Callers waiting for a tool slot now. */
  waitingToolCalls: number;
  /** Tool slot requests refused (full with `wait: false`, or too many waiters). */
  toolCallRefusals: number;
  /** Messages refused by `tryConsumeMessage` or a failed `consumeMessage`. */
  messageRefusals: number;
  /** Byte reservations refused. */
  queueByteRefusals: number;
  /** Bytes reserved now. */
  queuedBytes: number;
  /** Tasks refused by `checkTaskResources` (over a limit, or a malformed constraint). */
  taskRefusals: number;
}

interface SlotWaiter {
  resolve: (release: ReleaseToolSlot) => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

/**
 * Limits that are enforced, not decorative: the runtime's executor calls `acquireToolSlot`
 * around each tool call, `consumeMessage` before each send, and `reserveQueueBytes` /
 * `releaseQueueBytes` around what it buffers.
 */
export class ResourceLimits {
  /** The limits in force. */
  readonly maxConcurrentToolCalls: number;
  /** See `ResourceLimitsOptions.maxToolWaiters`. */
  readonly maxToolWaiters: number;
  /** See `ResourceLimitsOptions.maxMessagesPerSecond`. */
  readonly maxMessagesPerSecond: number;
  /** See `ResourceLimitsOptions.maxQueueBytes`. */
  readonly maxQueueBytes: number;
  /** See `ResourceLimitsOptions.maxTaskCpu`. */
  readonly maxTaskCpu: number;
  /** See `ResourceLimitsOptions.maxTaskMemoryMb`. */
  readonly maxTaskMemoryMb: number;
  readonly #messages: RateLimiter;
  #active = 0;
  readonly #waiters: SlotWaiter[] = [];
  #queuedBytes = 0;
  #stopped = false;
  readonly #counts = { toolCallRefusals: 0, messageRefusals: 0, queueByteRefusals: 0, taskRefusals: 0 };

  /** @throws ConfigError on a bad limit. */
  constructor(options: ResourceLimitsOptions = {}) {
    this.maxConcurrentToolCalls = checkInteger('maxConcurrentToolCalls', options.maxConcurrentToolCalls ?? DEFAULT_MAX_CONCURRENT_TOOL_CALLS, 1);
    this.maxToolWaiters = checkInteger('maxToolWaiters', options.maxToolWaiters ?? DEFAULT_MAX_TOOL_WAITERS, 0);
    this.maxMessagesPerSecond = checkNumber('maxMessagesPerSecond', options.maxMessagesPerSecond ?? DEFAULT_MAX_MESSAGES_PER_SECOND, Number.MIN_VALUE);
    this.maxQueueBytes = checkInteger('maxQueueBytes', options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES, 0);
    this.maxTaskCpu = checkNumber('maxTaskCpu', options.maxTaskCpu ?? defaultMaxTaskCpu(), 0);
    this.maxTaskMemoryMb = checkNumber('maxTaskMemoryMb', options.maxTaskMemoryMb ?? defaultMaxTaskMemoryMb(), 0);
    const burst = checkNumber('messageBurst', options.messageBurst ?? Math.max(1, this.maxMessagesPerSecond), 1);
    this.#messages = new RateLimiter({ ratePerSecond: this.maxMessagesPerSecond, burst, clock: options.clock });
  }

  /**
   * Takes a tool slot; call the returned function when the tool call ends (in `finally`).
   * @throws LimitExceededError when full and `wait` is false, or too many callers wait;
   * AbortError when `signal` aborts; NotStartedError after `stop()`.
   */
  acquireToolSlot(options: AcquireToolSlotOptions = {}): Promise<ReleaseToolSlot> {
    const { signal, wait = true } = options;
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    if (this.#stopped) return Promise.reject(new NotStartedError('resource limits are stopped'));
    if (this.#active < this.maxConcurrentToolCalls && this.#waiters.length === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (!wait) {
      this.#counts.toolCallRefusals++;
      return Promise.reject(new LimitExceededError(`all ${this.maxConcurrentToolCalls} tool slots are busy`));
    }
    if (this.#waiters.length >= this.maxToolWaiters) {
      this.#counts.toolCallRefusals++;
      return Promise.reject(new LimitExceededError(`more than ${this.maxToolWaiters} callers waiting for a tool slot`));
    }
    return new Promise<ReleaseToolSlot>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new AbortError(undefined, { cause: signal?.reason }));
      };
      const waiter: SlotWaiter = { resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Takes one message token if available; a refusal is counted. */
  tryConsumeMessage(): boolean {
    const ok = this.#messages.tryRemove(1);
    if (!ok) this.#counts.messageRefusals++;
    return ok;
  }

  /** Takes one message token, waiting for it (see `RateLimiter.remove`). */
  async consumeMessage(options: WaitOptions = {}): Promise<void> {
    try {
      await this.#messages.remove(1, options);
    } catch (err) {
      this.#counts.messageRefusals++;
      throw err;
    }
  }

  /**
   * Reserves `n` bytes of queue space; returns `false` (counted) when that would exceed
   * `maxQueueBytes`.
   * @throws ValidationError when `n` is not a non-negative integer.
   */
  reserveQueueBytes(n: number): boolean {
    checkBytes(n);
    if (this.#queuedBytes + n > this.maxQueueBytes) {
      this.#counts.queueByteRefusals++;
      return false;
    }
    this.#queuedBytes += n;
    return true;
  }

  /**
   * Returns `n` reserved bytes.
   * @throws ValidationError when `n` is not a non-negative integer or exceeds what is reserved
   * (a bookkeeping bug in the caller, refused rather than hidden).
   */
  releaseQueueBytes(n: number): void {
    checkBytes(n);
    if (n > this.#queuedBytes) throw new ValidationError(`cannot release ${n} bytes: only ${this.#queuedBytes} are reserved`);
    this.#queuedBytes -= n;
  }

  /**
   * Checks what a task asks for (`constraints.cpu`, `constraints.memory_mb`; absent means
   * nothing) against `maxTaskCpu` and `maxTaskMemoryMb`. The executor calls it before it
   * submits or claims a task, so a task this agent cannot hold is refused, not silently run.
   * Every refusal is counted (`taskRefusals`).
   * @throws TaskResourcesError when a constraint is over its limit; ValidationError when one
   * is not a finite non-negative number.
   */
  checkTaskResources(constraints: Readonly<Record<string, unknown>> | null | undefined): void {
    if (constraints === null || constraints === undefined) return;
    if (typeof constraints !== 'object') {
      this.#counts.taskRefusals++;
      throw new ValidationError('task constraints must be an object');
    }
    this.#checkConstraint(constraints, TASK_CPU_CONSTRAINT, this.maxTaskCpu);
    this.#checkConstraint(constraints, TASK_MEMORY_CONSTRAINT, this.maxTaskMemoryMb);
  }

  #checkConstraint(constraints: Readonly<Record<string, unknown>>, key: string, limit: number): void {
    if (!Object.prototype.hasOwnProperty.call(constraints, key)) return;
    const raw = constraints[key];
    if (raw === undefined || raw === null) return;
    // A wire Float64 (an integer-valued float) carries its number in `value`.
    const value = typeof raw === 'object' && typeof (raw as { value?: unknown }).value === 'number' ? (raw as { value: number }).value : raw;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.#counts.taskRefusals++;
      throw new ValidationError(`task constraint ${key} must be a finite non-negative number, got ${typeof value === 'number' ? value : typeof value}`);
    }
    if (value > limit) {
      this.#counts.taskRefusals++;
      throw new TaskResourcesError(key, value, limit);
    }
  }

  /** A snapshot of the counters and gauges. */
  stats(): ResourceLimitsStats {
    return {
      activeToolCalls: this.#active,
      waitingToolCalls: this.#waiters.length,
      queuedBytes: this.#queuedBytes,
      ...this.#counts,
    };
  }

  /** Re-enables waiting after `stop()`. */
  start(): void {
    this.#stopped = false;
    this.#messages.start();
  }

  /** Rejects every waiter (tool slots and messages) with `NotStartedError`; slots already held stay valid until released. */
  stop(): void {
    this.#stopped = true;
    this.#messages.stop();
    for (const w of this.#waiters.splice(0)) {
      w.cleanup();
      w.reject(new NotStartedError('resource limits stopped'));
    }
  }

  #releaser(): ReleaseToolSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) {
        // Hand the slot straight over: `#active` stays the same.
        next.cleanup();
        next.resolve(this.#releaser());
      } else {
        this.#active--;
      }
    };
  }
}

function checkBytes(n: number): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ValidationError(`byte count must be a non-negative integer, got ${String(n)}`);
}
