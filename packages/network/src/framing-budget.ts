import { ValidationError, intOption } from '@converge/core';
import { FRAME_HEADER_BYTES } from './framing.js';
import type { FrameRejectReason } from './framing-instruments.js';

/**
 * Default most bytes all connections of one transport may hold together in unfinished frames
 * (TCP: the decoder's partial frame; WebSocket: a message `ws` is still assembling): 64 MiB.
 * Without it, 1,024 connections each holding a 10 MiB partial frame cost ~10 GiB.
 */
export const DEFAULT_MAX_INBOUND_BYTES = 64 * 1024 * 1024;

/**
 * Slack added to `maxFrameBytes + 4` for the default per-connection budget: WebSocket framing
 * (up to 14 bytes per WS frame, more when a message is fragmented) is counted with the payload.
 */
export const CONNECTION_BUDGET_SLACK_BYTES = 64 * 1024;

/**
 * Default window of the minimum-data-rate check: a connection holding an unfinished frame must
 * deliver at least `frameProgressMinBytes` in every window of this length (or finish the frame):
 * 10,000 ms.
 */
export const DEFAULT_FRAME_PROGRESS_TIMEOUT_MS = 10_000;

/** Default bytes an unfinished frame must progress by per `frameProgressTimeoutMs`: 1,024 (about 100 B/s). */
export const DEFAULT_FRAME_PROGRESS_MIN_BYTES = 1_024;

/** Default longest time a connection may hold one unfinished frame, whatever its rate: 300,000 ms. */
export const DEFAULT_MAX_FRAME_TIME_MS = 300_000;

/**
 * Default most bytes a WebSocket client may send before it has proved its key (server with
 * `requireAuth`): 1,024. The proof is 104 bytes (110 on the wire).
 */
export const DEFAULT_WS_PRE_AUTH_MAX_BYTES = 1_024;

/** Options of the inbound byte budget and slow-frame checks (shared by TCP and WebSocket). */
export interface InboundBudgetOptions {
  /** Most bytes held in unfinished frames by all connections together (default 64 MiB). */
  maxInboundBytes?: number;
  /** Most bytes one connection may hold in an unfinished frame (default `maxFrameBytes` + 4 + 64 KiB). */
  maxConnectionBytes?: number;
  /** Window of the minimum-rate check, ms (default 10,000; 0 disables the rate and frame-time checks). */
  frameProgressTimeoutMs?: number;
  /** Bytes an unfinished frame must progress by per window (default 1,024). */
  frameProgressMinBytes?: number;
  /** Longest time one unfinished frame may be held, ms (default 300,000). */
  maxFrameTimeMs?: number;
}

/** Why a connection's meter refused it: the reject reason and log detail. */
export interface BudgetViolation {
  reason: Extract<FrameRejectReason, 'over_budget' | 'slow'>;
  detail: Record<string, unknown>;
}

/**
 * The inbound byte budget of one transport, shared by all its connections, and the sweep that
 * closes connections whose unfinished frame progresses too slowly (slowloris).
 *
 * Each connection has a `ConnectionMeter` and reports to it, after every read, how many bytes
 * it now holds for an unfinished frame; the meter reserves the growth from this budget. A
 * connection that would take the transport over `maxInboundBytes`, or itself over
 * `maxConnectionBytes`, is refused (`over_budget`) and its caller closes it, which frees its
 * reservation. Memory is then bounded by the budget plus one socket read per connection.
 */
export class InboundBudget {
  /** Most bytes held by all connections together. */
  readonly maxBytes: number;
  /** Default per-connection limit of the meters opened on this budget. */
  readonly maxConnectionBytes: number;
  /** Window of the minimum-rate check (0: disabled). */
  readonly progressTimeoutMs: number;
  /** Bytes an unfinished frame must progress by per window. */
  readonly progressMinBytes: number;
  /** Longest time one unfinished frame may be held. */
  readonly maxFrameTimeMs: number;
  #used = 0;
  readonly #meters = new Set<ConnectionMeter>();
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #sweepMs: number;
  #lastSweep = 0;
  #isPaused: () => boolean = () => false;

  constructor(options: InboundBudgetOptions, maxFrameBytes: number) {
    this.maxConnectionBytes = intOption(options.maxConnectionBytes, maxFrameBytes + FRAME_HEADER_BYTES + CONNECTION_BUDGET_SLACK_BYTES, 'maxConnectionBytes', {
      min: 1,
      error: 'validation',
    });
    this.maxBytes = intOption(options.maxInboundBytes, Math.max(DEFAULT_MAX_INBOUND_BYTES, this.maxConnectionBytes), 'maxInboundBytes', {
      min: 1,
      error: 'validation',
    });
    this.progressTimeoutMs = intOption(options.frameProgressTimeoutMs, DEFAULT_FRAME_PROGRESS_TIMEOUT_MS, 'frameProgressTimeoutMs', {
      min: 0,
      error: 'validation',
    });
    this.progressMinBytes = intOption(options.frameProgressMinBytes, DEFAULT_FRAME_PROGRESS_MIN_BYTES, 'frameProgressMinBytes', {
      min: 1,
      error: 'validation',
    });
    this.maxFrameTimeMs = intOption(options.maxFrameTimeMs, DEFAULT_MAX_FRAME_TIME_MS, 'maxFrameTimeMs', { min: 1, error: 'validation' });
    if (this.progressTimeoutMs > 2 ** 31 - 1) throw new ValidationError('frameProgressTimeoutMs must be at most 2^31-1');
    // Checks run a few times per window, so a slow frame is closed within ~1.25 windows.
    this.#sweepMs = Math.min(1_000, Math.max(10, Math.floor(Math.min(this.progressTimeoutMs, this.maxFrameTimeMs) / 4)));
  }

  /** Bytes held in unfinished frames by all connections now. */
  get used(): number {
    return this.#used;
  }

  /**
   * Tells the sweep when reading is paused by the transport (receive-queue backpressure): a
   * paused connection cannot progress, so its frame clocks stop while the pause lasts.
   */
  pausedWhen(isPaused: () => boolean): void {
    this.#isPaused = isPaused;
  }

  /** Connections metered now. */
  get connections(): number {
    return this.#meters.size;
  }

  /**
   * A meter for one new connection. `onViolation` is called (once) when the connection must be
   * closed: over budget (from `update`) or too slow (from the sweep); the caller counts, logs
   * and destroys the socket. `maxBytes` overrides the per-connection limit (e.g. before auth).
   */
  open(onViolation: (v: BudgetViolation) => void, maxBytes?: number): ConnectionMeter {
    const m = new ConnectionMeter(this, onViolation, maxBytes ?? this.maxConnectionBytes);
    this.#meters.add(m);
    if (this.#timer === undefined && this.progressTimeoutMs > 0) {
      this.#lastSweep = performance.now();
      this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
      this.#timer.unref();
    }
    return m;
  }

  /** Stops the sweep and forgets every meter (the transport stopped). */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const m of this.#meters) m.close();
    this.#meters.clear();
  }

  /** @internal Reserves `n` more bytes; `false` (nothing reserved) when over the budget. */
  reserve(n: number): boolean {
    if (this.#used + n > this.maxBytes) return false;
    this.#used += n;
    return true;
  }

  /** @internal Gives back `n` bytes. */
  release(n: number): void {
    this.#used -= n;
  }

  /** @internal A meter's connection closed. */
  forget(m: ConnectionMeter): void {
    this.#meters.delete(m);
    if (this.#meters.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #sweep(): void {
    const now = performance.now();
    const elapsed = now - this.#lastSweep;
    this.#lastSweep = now;
    if (this.#isPaused()) {
      for (const m of this.#meters) m.defer(elapsed);
      return;
    }
    // A late sweep means the event loop was blocked: bytes that arrived meanwhile are still
    // unread (timers run before I/O), so the stall must not count against any connection.
    const lag = elapsed - this.#sweepMs;
    if (lag > this.#sweepMs) {
      for (const m of this.#meters) m.defer(lag);
      return;
    }
    for (const m of this.#meters) m.check(now);
  }
}

/**
 * What one connection holds for its unfinished frame, reserved from its transport's
 * `InboundBudget`, and how fast that frame progresses. See `InboundBudget`.
 */
export class ConnectionMeter {
  readonly #budget: InboundBudget;
  readonly #onViolation: (v: BudgetViolation) => void;
  #limit: number;
  #held = 0;
  #closed = false;
  // Slow-frame state: when the current unfinished frame started, the current rate window, and
  // the bytes received in it.
  #frameStart = 0;
  #windowStart = 0;
  #windowBytes = 0;

  constructor(budget: InboundBudget, onViolation: (v: BudgetViolation) => void, limit: number) {
    this.#budget = budget;
    this.#onViolation = onViolation;
    this.#limit = limit;
  }

  /** Bytes reserved for this connection's unfinished frame. */
  get held(): number {
    return this.#held;
  }

  /** The per-connection limit in force. */
  get limit(): number {
    return this.#limit;
  }

  /** Changes the per-connection limit (e.g. once a WebSocket client has authenticated). */
  setLimit(limit: number): void {
    this.#limit = limit;
  }

  /**
   * After a read of `chunkBytes` bytes: the connection now holds `held` bytes for an unfinished
   * frame, and `frameDone` says whether at least one frame was completed by this read. Returns
   * `false` (and calls `onViolation`) when this takes the connection or the transport over its
   * budget; the caller must then close the connection.
   */
  update(held: number, chunkBytes: number, frameDone: boolean): boolean {
    if (this.#closed) return false;
    const prev = this.#held;
    if (held > prev) {
      const grow = held - prev;
      if (held > this.#limit) return this.#violate('over_budget', { held, limit: this.#limit, scope: 'connection' });
      if (!this.#budget.reserve(grow)) {
        return this.#violate('over_budget', { held, inboundBytes: this.#budget.used, limit: this.#budget.maxBytes, scope: 'transport' });
      }
    } else if (held < prev) this.#budget.release(prev - held);
    this.#held = held;
    if (held === 0) return true;
    if (prev === 0 || frameDone) {
      // A new unfinished frame: its clock and rate window start now.
      this.#frameStart = this.#windowStart = performance.now();
      this.#windowBytes = 0;
    } else this.#windowBytes += chunkBytes;
    return true;
  }

  /** @internal Sweep: closes the connection when its unfinished frame is too slow or too old. */
  check(now: number): void {
    if (this.#closed || this.#held === 0) return;
    const b = this.#budget;
    if (now - this.#frameStart >= b.maxFrameTimeMs) {
      this.#violate('slow', { held: this.#held, heldMs: Math.round(now - this.#frameStart), maxFrameTimeMs: b.maxFrameTimeMs });
      return;
    }
    if (now - this.#windowStart < b.progressTimeoutMs) return;
    if (this.#windowBytes < b.progressMinBytes) {
      this.#violate('slow', {
        held: this.#held,
        progressed: this.#windowBytes,
        frameProgressMinBytes: b.progressMinBytes,
        frameProgressTimeoutMs: b.progressTimeoutMs,
      });
      return;
    }
    this.#windowStart = now;
    this.#windowBytes = 0;
  }

  /** @internal Moves the frame clocks forward by `ms` (time spent paused by the transport). */
  defer(ms: number): void {
    this.#frameStart += ms;
    this.#windowStart += ms;
  }

  /** Releases the reservation; the connection closed. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#budget.release(this.#held);
    this.#held = 0;
    this.#budget.forget(this);
  }

  #violate(reason: BudgetViolation['reason'], detail: Record<string, unknown>): false {
    this.close();
    this.#onViolation({ reason, detail });
    return false;
  }
}
