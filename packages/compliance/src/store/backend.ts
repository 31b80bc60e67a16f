// A store backend as the tests of a server store see it (PostgreSQL, Redis): how to make a
// store on a namespace of its own (a table, a key prefix) and delete that namespace again.
import { beforeAll } from 'vitest';
import type { Store } from '@converge/core';
import { storesPerTest } from './per-test.js';
import { storeComplianceTests } from './index.js';
import { storeCrossProcessTests, type ChildStoreFactory, type StoreCrossProcessOptions } from './cross-process.js';

/** How the tests of one server store make and clean up stores, each on its own namespace. */
export interface StoreBackend<S extends Store & { stop(): Promise<void> }, O> {
  /** The store's class name, as the suites title it (`'PostgresStore'`). */
  name: string;
  /** A namespace no other run uses; `tag` marks what it is for. */
  unique: (tag?: string) => string;
  /** A store on `namespace`. */
  make: (namespace: string, options?: O) => S;
  /** Deletes everything on `namespace`. */
  drop: (namespace: string) => Promise<void>;
  /** Fails (never skips) with a clear message when the server is not reachable; `backendStoresPerTest` runs it before all tests. */
  ready?: () => Promise<void>;
}

/** `backend.make`, remembering the namespace of each store it makes in `namespaces`. */
function making<S extends Store & { stop(): Promise<void> }, O>(backend: StoreBackend<S, O>, namespaces: WeakMap<object, string>) {
  return (namespace: string, options?: O): S => {
    const store = backend.make(namespace, options);
    namespaces.set(store, namespace);
    return store;
  };
}

/**
 * `storesPerTest` over a backend: `fresh(options?, namespace?)` makes a store (on a new
 * namespace by default), `fresh.sharing(...options)` one store per options object, all on one
 * new namespace (two clients of the same data); after each test every store made is stopped
 * and its namespace dropped. Before all tests, `backend.ready` checks the server. Call it at the
 * top level of a test file.
 */
export function backendStoresPerTest<S extends Store & { stop(): Promise<void> }, O>(backend: StoreBackend<S, O>) {
  if (backend.ready) beforeAll(backend.ready);
  const namespaces = new WeakMap<object, string>();
  const make = making(backend, namespaces);
  const fresh = storesPerTest(
    (options?: O, namespace: string = backend.unique()) => make(namespace, options),
    async (stores) => {
      for (const ns of new Set(stores.map((s) => namespaces.get(s)))) if (ns !== undefined) await backend.drop(ns);
    },
  );
  const sharing = <T extends (O | undefined)[]>(...options: T): { [K in keyof T]: S } => {
    const namespace = backend.unique();
    return options.map((o) => fresh(o, namespace)) as { [K in keyof T]: S };
  };
  return Object.assign(fresh, { sharing });
}

/** The Store compliance suite over a backend: each test's store is on a new namespace, dropped after the test. */
export function backendComplianceTests<S extends Store & { stop(): Promise<void> }, O>(backend: StoreBackend<S, O>): void {
  const namespaces = new WeakMap<object, string>();
  const make = making(backend, namespaces);
  storeComplianceTests({
    name: backend.name,
    create: async () => make(backend.unique('c')),
    teardown: async (store) => {
      await store.stop?.();
      const ns = namespaces.get(store);
      if (ns !== undefined) await backend.drop(ns);
    },
  });
}

/** Options of `backendCrossProcessTests`: those of `storeCrossProcessTests` but the fixture, made from the backend. */
export interface BackendCrossProcessOptions<S extends Store> extends Omit<StoreCrossProcessOptions<S>, 'name' | 'setup'> {
  /** How the children reach `namespace` (their module, and options naming the namespace). */
  child: (namespace: string) => ChildStoreFactory;
  /** Readies a new namespace before the children race on it (e.g. creates the table). */
  prepare?: (namespace: string) => Promise<void>;
}

/**
 * `storeCrossProcessTests` over a backend: each test's namespace is new (`backend.unique('x')`),
 * readied by `prepare`, opened here with `backend.make`, reached by the children through `child`
 * and dropped after the test.
 */
export function backendCrossProcessTests<S extends Store & { stop(): Promise<void> }, O>(
  backend: StoreBackend<S, O>,
  options: BackendCrossProcessOptions<S>,
): void {
  const { child, prepare, ...rest } = options;
  storeCrossProcessTests({
    ...rest,
    name: backend.name,
    setup: async () => {
      const namespace = backend.unique('x');
      await prepare?.(namespace);
      return { open: () => backend.make(namespace), child: child(namespace), teardown: () => backend.drop(namespace) };
    },
  });
}
