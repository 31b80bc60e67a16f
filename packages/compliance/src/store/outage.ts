// "The server went away mid-run, then came back", checked through a TcpProxy so the real
// server (shared by other tests) is never touched.
import { expect, it } from 'vitest';
import type { Store } from '@converge/core';
import { TcpProxy } from '../fault-proxy/index.js';
import { eventually } from './eventually.js';

/** A store that counts the calls it failed with `ERR_STORE_UNAVAILABLE` (`stats.unavailable`). */
export type OutageStore = Store & { readonly stats: { readonly unavailable: number } };

/** Options of `storeOutageTest`. */
export interface StoreOutageOptions<S extends OutageStore> {
  /** The real server the proxy forwards to. */
  server: { host: string; port: number };
  /**
   * Two stores on one fresh namespace: `through` reaches the server only via
   * `127.0.0.1:proxyPort` (give it a short retry policy, so calls fail soon while it is down)
   * and has `watch`; `direct` reaches the server itself. The suite starts them; stopping them
   * and removing the namespace stay with the caller (e.g. in its `afterEach`).
   */
  open(proxyPort: number): { through: S; direct: S };
  /** Extra checks while the server is down, after the failed calls (e.g. a connection-lost counter). */
  whileDown?(store: S): void | Promise<void>;
}

/**
 * Registers one vitest test (call it inside your `describe`): while the server is unreachable
 * `get` and `put` fail with `StoreError` `ERR_STORE_UNAVAILABLE` (counted in
 * `stats.unavailable`); once it is back, what was written before and meanwhile (by another
 * client) is intact, writes work again and `watch` hears other clients' writes again.
 */
export function storeOutageTest<S extends OutageStore>(options: StoreOutageOptions<S>): void {
  it('a server that goes away mid-run: calls fail with ERR_STORE_UNAVAILABLE; when it returns, state is intact and watch resumes', async () => {
    const proxy = new TcpProxy(options.server.host, options.server.port);
    await proxy.up();
    try {
      const { through: s, direct } = options.open(proxy.port);
      if (!s.watch) throw new Error('storeOutageTest: the store under test has no watch()');
      await s.start?.();
      await direct.start?.();
      const r1 = await s.put('a', 1);
      const seen: string[] = [];
      s.watch('', (k) => seen.push(k));

      await proxy.down();
      await expect(s.get('a')).rejects.toMatchObject({ name: 'StoreError', code: 'ERR_STORE_UNAVAILABLE' });
      await expect(s.put('b', 2)).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
      expect(s.stats.unavailable).toBeGreaterThanOrEqual(2);
      await options.whileDown?.(s);
      await direct.put('while-down', 1); // the server itself is fine; only this store's path is cut

      await proxy.up();
      expect(await s.getEntry('a')).toEqual({ value: 1, revision: r1 });
      expect(await s.get('while-down')).toBe(1);
      const r2 = await s.put('a', 2);
      expect(r2).toBeGreaterThan(r1);
      await expectHearsWritesOf(direct, seen);
    } finally {
      await proxy.down();
    }
  });
}

/** Options of `storeUrlOutageTest`: those of `storeOutageTest` for a store that reaches its server by URL. */
export interface StoreUrlOutageOptions<S extends OutageStore> extends Omit<StoreOutageOptions<S>, 'server' | 'open'> {
  /** The real server's URL (`postgres://…`, `redis://…`). */
  url: string;
  /** The server's port when `url` names none. */
  defaultPort: number;
  /** As `StoreOutageOptions.open`, given `url` with its host and port replaced by the proxy's. */
  open: (proxiedUrl: string) => { through: S; direct: S };
}

/** `storeOutageTest` for the server at `url`: `open` gets the URL that goes through the proxy. */
export function storeUrlOutageTest<S extends OutageStore>(options: StoreUrlOutageOptions<S>): void {
  const { url, defaultPort, open, ...rest } = options;
  const server = new URL(url);
  storeOutageTest({
    ...rest,
    server: { host: server.hostname, port: Number(server.port || defaultPort) },
    open: (proxyPort) => {
      const proxied = new URL(url);
      proxied.host = `127.0.0.1:${proxyPort}`;
      return open(proxied.toString());
    },
  });
}

/** The retry policy `storeDownAtStartTest` gives the store: three attempts, 5 to 10 ms apart. */
export const DOWN_AT_START_RETRY = Object.freeze({ attempts: 3, baseDelayMs: 5, maxDelayMs: 10 });

/** Options of `storeDownAtStartTest`. */
export interface StoreDownAtStartOptions<S extends Store> {
  /** Test title (name how the store gives up). */
  title: string;
  /** A store whose server refuses connections (e.g. port 1), with `retry` as its retry policy. */
  create: (retry: typeof DOWN_AT_START_RETRY) => S;
  /** What the error message must say of the three attempts (e.g. `'3 attempts'`). */
  attempts: string;
  /** Extra checks after the failed start (e.g. retry counters). */
  afterFailedStart?: (store: S) => void;
}

/**
 * Registers one vitest test (call it inside your `describe`): `start()` against a server that is
 * down fails with `StoreError` `ERR_STORE_UNAVAILABLE` after the bounded attempts, naming them;
 * calls are then `NotStartedError`, and `stop()` works.
 */
export function storeDownAtStartTest<S extends Store>(options: StoreDownAtStartOptions<S>): void {
  it(options.title, async () => {
    const s = options.create(DOWN_AT_START_RETRY);
    const err = await Promise.resolve(s.start?.()).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StoreError', code: 'ERR_STORE_UNAVAILABLE' });
    expect((err as Error).message).toContain(options.attempts);
    options.afterFailedStart?.(s);
    await expect(s.get('k')).rejects.toMatchObject({ name: 'NotStartedError' });
    await s.stop?.();
  });
}

/** Options of `storeReconnectTest`. */
export interface StoreReconnectOptions<S extends Store> {
  /** Test title (name the backend's way of cutting connections). */
  title: string;
  /**
   * Two unstarted stores on one fresh namespace: `store` (with a retry policy that outlasts a
   * reconnect, and `watch`) and `other` (a second client). Cleanup stays with the caller.
   */
  open(): { store: S; other: S };
  /** Cuts every connection of `store` on the server side (e.g. `pg_terminate_backend`, `CLIENT KILL`); check there how many. */
  kill(store: S): Promise<void>;
  /** Extra checks once the store worked again (e.g. a connection-lost counter). */
  afterReconnect?(store: S): void | Promise<void>;
}

/**
 * Registers one vitest test (call it inside your `describe`): after the server cut every
 * connection of a running store, reads, compareAndSet and list work again with the state
 * intact, and `watch` hears another client's writes again.
 */
export function storeReconnectTest<S extends Store>(options: StoreReconnectOptions<S>): void {
  it(options.title, async () => {
    const { store: s, other } = options.open();
    if (!s.watch) throw new Error('storeReconnectTest: the store under test has no watch()');
    await Promise.all([s.start?.(), other.start?.()]);
    const r1 = await s.put('a', { n: 1 });
    await s.put('b', 2);
    const seen: string[] = [];
    s.watch('', (k) => seen.push(k));

    await options.kill(s);

    expect(await s.getEntry('a')).toEqual({ value: { n: 1 }, revision: r1 });
    const r2 = await s.compareAndSet('a', { n: 2 }, r1);
    expect(r2).toBeGreaterThan(r1);
    expect(await s.list('')).toEqual(['a', 'b']);
    await options.afterReconnect?.(s);
    // The change feed comes back by itself: writes by another client are heard again.
    await expectHearsWritesOf(other, seen);
  });
}

// The change feed is back: `writer` (another client) writes `after:<n>` keys until `seen` (what
// the store under test's watch heard) holds one; fails when none is heard in 100 tries.
async function expectHearsWritesOf(writer: Store, seen: readonly string[]): Promise<void> {
  let i = 0;
  const heard = await eventually(
    async () => {
      await writer.put(`after:${i++}`, 1);
      return seen.some((k) => k.startsWith('after:'));
    },
    100,
    50,
  );
  expect(heard).toBe(true);
}
