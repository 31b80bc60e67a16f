// What every store that talks to a server shows besides the Store contract: abortable calls,
// a value size bound, and calls refused outside start()..stop().
import { expect, it } from 'vitest';
import type { Store } from '@converge/core';
import { eventually } from './eventually.js';

/** Options of `storeServerTests`. */
export interface StoreServerTestOptions<S extends Store> {
  /**
   * A fresh, unstarted store on its own namespace, with the given `maxValueBytes` when there is
   * one. The suite starts (and in one test stops) it; stopping it and removing the namespace
   * after each test stay with the caller (e.g. in its `afterEach`).
   */
  create(options?: { maxValueBytes?: number }): S;
}

/**
 * Registers three vitest tests (call it inside your `describe`): an already-aborted `signal`
 * rejects `put` and `list` with `AbortError` and writes nothing; a value over `maxValueBytes`
 * (100 here) is `StoreError` `ERR_STORE_VALUE_TOO_LARGE` for `put` and `compareAndSet`, writes
 * nothing, and a smaller one is written; calls before `start()` or after `stop()` are
 * `NotStartedError`.
 */
export function storeServerTests<S extends Store>(options: StoreServerTestOptions<S>): void {
  it('an aborted signal rejects with AbortError and writes nothing', async () => {
    const s = options.create();
    await s.start?.();
    const ac = new AbortController();
    ac.abort();
    await expect(s.put('k', 1, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(s.list('', { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(await s.get('k')).toBeUndefined();
  });

  it('a value over maxValueBytes is StoreError ERR_STORE_VALUE_TOO_LARGE and is not written', async () => {
    const s = options.create({ maxValueBytes: 100 });
    await s.start?.();
    await expect(s.put('k', 'x'.repeat(200))).rejects.toMatchObject({ name: 'StoreError', code: 'ERR_STORE_VALUE_TOO_LARGE', key: 'k' });
    await expect(s.compareAndSet('k', 'x'.repeat(200), 0)).rejects.toMatchObject({ code: 'ERR_STORE_VALUE_TOO_LARGE' });
    expect(await s.list('')).toEqual([]);
    expect(await s.put('k', 'x'.repeat(50))).toBeGreaterThan(0);
  });

  it('calls before start() or after stop() are NotStartedError', async () => {
    const s = options.create();
    await expect(s.get('k')).rejects.toMatchObject({ name: 'NotStartedError' });
    await s.start?.();
    await s.stop?.();
    await expect(s.put('k', 1)).rejects.toMatchObject({ name: 'NotStartedError' });
  });
}

/** Options of `storeWatchTests`. */
export interface StoreWatchTestOptions<S extends Store> {
  /** Two unstarted stores (two connections) on one fresh namespace; cleanup as for `storeServerTests`. */
  pair(): [S, S];
  /** The store's counters: change notifications received from other instances, and listeners that threw. */
  counters(store: S): { notifications: number; watchErrors: number };
}

/**
 * Registers two vitest tests (call it inside your `describe`) for a store whose `watch` hears
 * other instances: a write through one instance reaches the other, each instance hears its own
 * writes exactly once (synchronously, and never again from the feed), and only one
 * notification is counted; a throwing listener is counted and the others still hear the write.
 */
export function storeWatchTests<S extends Store>(options: StoreWatchTestOptions<S>): void {
  it('a write through another instance (another connection) wakes this one; own writes are heard once', async () => {
    const [a, b] = options.pair();
    if (!a.watch || !b.watch) throw new Error('storeWatchTests: the store under test has no watch()');
    await Promise.all([a.start?.(), b.start?.()]);
    const seenA: string[] = [];
    const seenB: string[] = [];
    a.watch('w:', (k) => seenA.push(k));
    b.watch('w:', (k) => seenB.push(k));
    await b.put('w:1', 1);
    expect(seenB).toEqual(['w:1']); // synchronously, for its own write
    await b.delete('w:1');
    await b.put('other', 1);
    expect(await eventually(() => seenA.length >= 2)).toBe(true);
    // A's write reaches B after B's own notifications (delivered in order), which B must skip.
    await a.put('w:2', 2);
    expect(await eventually(() => seenB.length >= 3)).toBe(true);
    expect(seenA).toEqual(['w:1', 'w:1', 'w:2']);
    expect(seenB).toEqual(['w:1', 'w:1', 'w:2']);
    expect(options.counters(b).notifications).toBe(1);
  });

  it('a throwing listener is counted and does not stop the others', async () => {
    const [s] = options.pair();
    await s.start?.();
    expect(await heardPastThrowingListener(s)).toEqual(['k']);
    expect(options.counters(s).watchErrors).toBe(1);
  });
}

/**
 * Watches all of `store` (started) with a listener that throws and, after it, one that records,
 * then puts `'k'`: resolves the keys the recording listener heard (`['k']` when one listener's
 * error does not stop the others). How the store counts or reports the error is for the caller.
 */
export async function heardPastThrowingListener(store: Store): Promise<string[]> {
  if (!store.watch) throw new Error('heardPastThrowingListener: the store under test has no watch()');
  const heard: string[] = [];
  store.watch('', () => {
    throw new Error('listener bug');
  });
  store.watch('', (k) => heard.push(k));
  await store.put('k', 1);
  return heard;
}
