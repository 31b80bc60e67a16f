/**
 * Small helpers shared by the policy classes: the clock type and option validation.
 * Not exported from the package root except `Clock`.
 */
import { ConfigError } from '@converge/core';

/** A source of time in milliseconds. Inject one in tests instead of waiting for real time. */
export type Clock = () => number;

/** Monotonic milliseconds (for rate limits, where wall-clock jumps must not matter). */
export const monotonicClock: Clock = () => performance.now();

/** Wall-clock milliseconds since the Unix epoch (for values that survive a restart). */
export const wallClock: Clock = () => Date.now();

/** Throws `ConfigError` unless `value` is a finite number in `[min, max]`. */
export function checkNumber(key: string, value: unknown, min: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be a finite number in [${min}, ${max}], got ${String(value)}`, { key });
  }
  return value;
}

/** Throws `ConfigError` unless `value` is an integer in `[min, max]`. */
export function checkInteger(key: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be an integer in [${min}, ${max}], got ${String(value)}`, { key });
  }
  return value;
}

/** Throws `ConfigError` unless `value` is an array of non-empty strings; returns a copy. */
export function checkStringList(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new ConfigError(`${key} must be an array of non-empty strings`, { key });
  }
  return [...(value as string[])];
}
