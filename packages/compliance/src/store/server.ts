// What every store that talks to a server shows besides the Store contract: abortable calls,
// a value size bound, and calls refused outside start()..stop().
import { expect, it } from 'vitest';
import type { Store } from '@converge/core';

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
