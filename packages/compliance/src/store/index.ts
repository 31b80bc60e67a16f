/**
 * `@converge/compliance/store`: the behaviour every Store must show, as a vitest suite.
 *
 * ```ts
 * import { storeComplianceTests } from '@converge/compliance/store';
 * storeComplianceTests({ name: 'MemoryStore', create: async () => new MemoryStore() });
 * ```
 * @packageDocumentation
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStore, type Store } from '@converge/core';
import { deleteTests, getPutTests, listTests, putIfAbsentTests } from './read-write-tests.js';
import { compareAndSetAcrossDeletesTests, compareAndSetTests } from './cas-tests.js';
import { copyTests, keyTests, wireTypeTests } from './value-tests.js';
import { concurrencyTests, watchTests } from './concurrency-tests.js';

export { casIncrement } from './concurrency-tests.js';
export { roundTripCases, sameOnTheWire, type RoundTripCase } from './values.js';
export { invalidKeys, validKeys } from './keys.js';
export { storeCrossProcessTests, type ChildStoreFactory, type StoreCrossProcessFixture, type StoreCrossProcessOptions } from './cross-process.js';
export {
  DOWN_AT_START_RETRY,
  storeDownAtStartTest,
  storeOutageTest,
  storeReconnectTest,
  storeUrlOutageTest,
  type OutageStore,
  type StoreDownAtStartOptions,
  type StoreOutageOptions,
  type StoreReconnectOptions,
  type StoreUrlOutageOptions,
} from './outage.js';
export { eventually } from './eventually.js';
export { storesPerTest } from './per-test.js';
export { backendComplianceTests, backendCrossProcessTests, backendStoresPerTest, type BackendCrossProcessOptions, type StoreBackend } from './backend.js';
export { heardPastThrowingListener, storeServerTests, storeWatchTests, type StoreServerTestOptions, type StoreWatchTestOptions } from './server.js';

/** Options of `storeComplianceTests`. */
export interface StoreComplianceOptions {
  /** Suite title, e.g. `'FileStore'`. */
  name: string;
  /**
   * Makes a fresh, empty store for one test (started or not: the suite calls `start()` when
   * the store has one).
   */
  create: () => Promise<Store>;
  /** Releases what `create` made (default: `store.stop()` when there is one). */
  teardown?: (store: Store) => Promise<void>;
  /** Concurrent compareAndSet-increment loops in the contention test (default 50). */
  casWorkers?: number;
  /** Concurrent putIfAbsent calls in the race test (default 20). */
  putIfAbsentRacers?: number;
}

/** Registers the hooks that make a fresh store for each test (and release it after); returns its getter. */
function useStore(options: StoreComplianceOptions): () => Store {
  let store: Store;
  beforeEach(async () => {
    store = await options.create();
    await store.start?.();
  });
  afterEach(async () => {
    if (options.teardown) await options.teardown(store);
    else await store.stop?.();
  });
  return () => store;
}

/**
 * Registers a vitest suite that checks `create()`'s store against the whole `Store` contract:
 * reads, writes, revisions, compareAndSet (including a stale revision after delete and
 * re-create), delete, sorted prefix listing, copy semantics, lossless values of every wire
 * type, awkward and invalid keys, concurrent compareAndSet and putIfAbsent races and, when the
 * store has one, `watch`.
 */
export function storeComplianceTests(options: StoreComplianceOptions): void {
  const casWorkers = options.casWorkers ?? 50;
  const racers = options.putIfAbsentRacers ?? 20;

  describe(`Store compliance: ${options.name}`, () => {
    const store = useStore(options);

    it('carries the store brand (isStore), so that any copy of core recognises it', () => {
      expect(isStore(store())).toBe(true);
    });

    describe('get, getEntry, put', () => getPutTests(store));
    describe('putIfAbsent', () => putIfAbsentTests(store));
    describe('compareAndSet', () => {
      compareAndSetTests(store);
      compareAndSetAcrossDeletesTests(store);
    });
    describe('delete', () => deleteTests(store));
    describe('list', () => listTests(store));
    describe('values are copies', () => copyTests(store));
    describe('values of every wire type round trip', () => wireTypeTests(store));
    describe('keys', () => keyTests(store));
    describe('concurrency', () => concurrencyTests(store, casWorkers, racers));
    describe('watch (when the store has it)', () => watchTests(store));
  });
}
