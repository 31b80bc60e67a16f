import { AbortError, TransportError, ValidationError, abortableSleep, exponentialBackoff, requireInt } from '@converge/core';

/** Reconnection settings shared by the TCP transport and the WebSocket client. */
export interface ReconnectOptions {
  /** Dial attempts per connection cycle before the waiting sends fail (default 5). */
  maxAttempts?: number;
  /** Delay before the second attempt, in ms (default 50); doubles per attempt. */
  initialDelayMs?: number;
  /** Longest delay between attempts, in ms (default 2,000). */
  maxDelayMs?: number;
}

/** Validated reconnection settings: every field of `ReconnectOptions` filled in. */
export type Backoff = Readonly<Required<ReconnectOptions>>;

/** Default reconnection settings: 5 dial attempts per cycle, 50 ms before the second, delays capped at 2,000 ms. */
export const RECONNECT_DEFAULTS = Object.freeze({ maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 2_000 }) satisfies Backoff;
/** Default dial attempts per connection cycle: 5. */
export const DEFAULT_CONNECT_ATTEMPTS = RECONNECT_DEFAULTS.maxAttempts;
/** Default first backoff delay: 50 ms. */
export const DEFAULT_BACKOFF_INITIAL_MS = RECONNECT_DEFAULTS.initialDelayMs;
/** Default largest backoff delay: 2,000 ms. */
export const DEFAULT_BACKOFF_MAX_MS = RECONNECT_DEFAULTS.maxDelayMs;
/** Default time allowed for one dial (TCP connect plus TLS handshake): 5,000 ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Fills in and checks `ReconnectOptions`. */
export function resolveBackoff(options: ReconnectOptions = {}): Backoff {
  const b = {
    maxAttempts: options.maxAttempts ?? RECONNECT_DEFAULTS.maxAttempts,
    initialDelayMs: options.initialDelayMs ?? RECONNECT_DEFAULTS.initialDelayMs,
    maxDelayMs: options.maxDelayMs ?? RECONNECT_DEFAULTS.maxDelayMs,
  };
  requireInt(b.maxAttempts, 'reconnect.maxAttempts', { error: 'validation' });
  if (!(b.initialDelayMs >= 0) || !(b.maxDelayMs >= b.initialDelayMs))
    throw new ValidationError('reconnect delays must satisfy 0 <= initialDelayMs <= maxDelayMs');
  return b;
}

/**
 * Delay before attempt `attempt` (1-based; attempt 0 is immediate): exponential, capped, with
 * "equal jitter" (between half and all of the capped value) so that many peers that lost the
 * same server do not all redial in step.
 */
export function backoffDelay(b: Backoff, attempt: number): number {
  return attempt <= 0 ? 0 : exponentialBackoff(attempt - 1, b.initialDelayMs, b.maxDelayMs, true);
}

/** What {@link dialWithBackoff} ends with: the socket and the attempt (0-based) that made it, or the last error. */
export type DialResult<T> = { socket: T; attempt: number } | { socket?: undefined; lastErr: unknown };

/**
 * One connection cycle: waits `backoffDelay` before each attempt (none before the first), calls
 * `dial`, and returns the first socket. Each failure goes to `onFailure(attempt + 1, err)`;
 * `final(err)` true ends the cycle at once (a refused proof does not get better by dialling
 * again). When `stop` aborts, rejects with `TransportError` `ERR_STOPPED`.
 */
export async function dialWithBackoff<T>(
  b: Backoff,
  stop: AbortSignal,
  dial: () => Promise<T>,
  onFailure: (attempts: number, err: unknown) => void,
  final: (err: unknown) => boolean = () => false,
): Promise<DialResult<T>> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < b.maxAttempts; attempt++) {
    try {
      await abortableSleep(backoffDelay(b, attempt), stop);
      return { socket: await dial(), attempt };
    } catch (err) {
      if (AbortError.is(err) || stop.aborted) throw new TransportError('transport stopped', { code: 'ERR_STOPPED' });
      lastErr = err;
      onFailure(attempt + 1, err);
      if (final(err)) break;
    }
  }
  return { lastErr };
}
