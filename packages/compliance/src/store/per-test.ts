// The bookkeeping of a store adapter's own test file: every store a test makes is stopped, and
// what it left on the server removed, after that test.
import { afterEach } from 'vitest';

/**
 * Wraps `make` so that every store it makes in a test is stopped after that test, then
 * `cleanup` runs once over all of them (drop their tables, delete their keys). Registers the
 * `afterEach`: call it at the top level of a test file. `track(store)` adds a store made
 * another way to the same bookkeeping.
 */
export function storesPerTest<S extends { stop(): Promise<void> }, A extends unknown[]>(
  make: (...args: A) => S,
  cleanup: (stores: readonly S[]) => Promise<void>,
): ((...args: A) => S) & { track(store: S): S } {
  const made: S[] = [];
  afterEach(async () => {
    const stores = made.splice(0);
    await Promise.all(stores.map((s) => s.stop()));
    await cleanup(stores);
  });
  const track = (s: S): S => {
    made.push(s);
    return s;
  };
  return Object.assign((...args: A): S => track(make(...args)), { track });
}
