import { describeValue } from './describe-value.js';
import { ConfigError } from './errors.js';

/**
 * What a bounded queue does with an item that arrives when it is full (one vocabulary for
 * every queue between a transport and an agent: `AsyncQueue`, the runtime's `Inbox`):
 * - `throw`: refuses it with `QueueFullError`; the caller still holds it;
 * - `reject`: refuses it by returning `false`; the caller still holds it (and can push back);
 * - `drop-oldest`: evicts the oldest queued item (counted as dropped) and takes the new one;
 * - `drop-newest`: discards the arriving item (counted as dropped).
 */
export type OverflowPolicy = 'throw' | 'reject' | 'drop-oldest' | 'drop-newest';

/** Every overflow policy, in a stable order. */
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = Object.freeze(['throw', 'reject', 'drop-oldest', 'drop-newest']);

/**
 * `value` as an `OverflowPolicy` (`fallback` when undefined).
 * @throws ConfigError naming `key` when it is none of `OVERFLOW_POLICIES`.
 */
export function overflowPolicy(value: unknown, fallback: OverflowPolicy, key = 'overflow'): OverflowPolicy {
  if (value === undefined) return fallback;
  if (!(OVERFLOW_POLICIES as readonly unknown[]).includes(value)) {
    throw new ConfigError(`${key} must be one of ${OVERFLOW_POLICIES.join(', ')}, got ${describeValue(value)}`, { key });
  }
  return value as OverflowPolicy;
}
