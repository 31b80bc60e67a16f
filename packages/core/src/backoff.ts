/**
 * The one backoff of every package: capped exponential delays, with or without jitter.
 * Browser-safe (no `node:*`).
 */

/** Steps beyond this count as this one: `2 ** 1000` is finite, so no input turns the delay into NaN. */
const MAX_BACKOFF_STEP = 1000;

/**
 * The delay before retry `step` (0-based): `min(maxMs, baseMs × 2^step)`. With `jitter`, "equal
 * jitter": a uniform draw between half and all of that value, so that many clients that failed
 * together do not all retry in step. A negative step counts as 0.
 */
export function exponentialBackoff(step: number, baseMs: number, maxMs: number, jitter = false): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, step), MAX_BACKOFF_STEP));
  return jitter ? capped / 2 + Math.random() * (capped / 2) : capped;
}
