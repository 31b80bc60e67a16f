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
import { roundTripCases, sameOnTheWire } from './values.js';
import { invalidKeys, validKeys } from './keys.js';

export { roundTripCases, sameOnTheWire, type RoundTripCase } from './values.js';
export { invalidKeys, validKeys } from './keys.js';
export { storeCrossProcessTests, type ChildStoreFactory, type StoreCrossProcessFixture, type StoreCrossProcessOptions } from './cross-process.js';
export { storeOutageTest, storeReconnectTest, type OutageStore, type StoreOutageOptions, type StoreReconnectOptions } from './outage.js';
export { eventually } from './eventually.js';
export { storesPerTest } from './per-test.js';
export { storeServerTests, storeWatchTests, type StoreServerTestOptions, type StoreWatchTestOptions } from './server.js';

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

/** Most attempts one increment loop makes before the test gives up (a livelock guard). */
const MAX_ATTEMPTS = 10_000;

/** Increments the number at `key` by one with a compareAndSet retry loop; returns the attempts. */
export async function casIncrement(store: Store, key: string): Promise<{ attempts: number; revision: number }> {
  for (let attempts = 1; attempts <= MAX_ATTEMPTS; attempts++) {
    const e = await store.getEntry<number>(key);
    const revision = await store.compareAndSet(key, (e?.value ?? 0) + 1, e?.revision ?? 0);
    if (revision !== null) return { attempts, revision };
  }
  throw new Error(`no increment of ${key} succeeded in ${MAX_ATTEMPTS} attempts`);
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
    let store: Store;

    beforeEach(async () => {
      store = await options.create();
      await store.start?.();
    });

    afterEach(async () => {
      if (options.teardown) await options.teardown(store);
      else await store.stop?.();
    });

    it('carries the store brand (isStore), so that any copy of core recognises it', () => {
      expect(isStore(store)).toBe(true);
    });

    describe('get, getEntry, put', () => {
      it('a missing key reads as undefined', async () => {
        expect(await store.get('missing')).toBeUndefined();
        expect(await store.getEntry('missing')).toBeUndefined();
      });

      it('put returns a positive integer revision that getEntry reports', async () => {
        const rev = await store.put('k', { a: 1 });
        expect(Number.isSafeInteger(rev) && rev > 0).toBe(true);
        expect(await store.get('k')).toEqual({ a: 1 });
        expect(await store.getEntry('k')).toEqual({ value: { a: 1 }, revision: rev });
      });

      it('every put raises the revision and replaces the value', async () => {
        const revs: number[] = [];
        for (let i = 0; i < 5; i++) revs.push(await store.put('k', i));
        for (let i = 1; i < revs.length; i++) expect(revs[i]).toBeGreaterThan(revs[i - 1]!);
        expect(await store.getEntry('k')).toEqual({ value: 4, revision: revs[4] });
      });

      it('keys are independent', async () => {
        await store.put('a', 'A');
        await store.put('b', 'B');
        expect(await store.get('a')).toBe('A');
        expect(await store.get('b')).toBe('B');
      });
    });

    describe('putIfAbsent', () => {
      it('writes only when the key has no value', async () => {
        expect(await store.putIfAbsent('k', 'first')).toBe(true);
        expect(await store.putIfAbsent('k', 'second')).toBe(false);
        expect(await store.get('k')).toBe('first');
      });

      it('writes again after a delete, at a higher revision', async () => {
        await store.putIfAbsent('k', 1);
        const r1 = (await store.getEntry('k'))!.revision;
        await store.delete('k');
        expect(await store.putIfAbsent('k', 2)).toBe(true);
        const e = await store.getEntry('k');
        expect(e?.value).toBe(2);
        expect(e!.revision).toBeGreaterThan(r1);
      });
    });

    describe('compareAndSet', () => {
      it('expectedRevision 0 creates an absent key and fails on a present one', async () => {
        const r = await store.compareAndSet('k', 'v', 0);
        expect(r).not.toBeNull();
        expect(await store.getEntry('k')).toEqual({ value: 'v', revision: r });
        expect(await store.compareAndSet('k', 'w', 0)).toBeNull();
        expect(await store.get('k')).toBe('v');
      });

      it('succeeds with the current revision and returns a higher one', async () => {
        const r1 = await store.put('k', 1);
        const r2 = await store.compareAndSet('k', 2, r1);
        expect(r2).not.toBeNull();
        expect(r2!).toBeGreaterThan(r1);
        expect(await store.getEntry('k')).toEqual({ value: 2, revision: r2 });
      });

      it('a conflict returns null and changes nothing', async () => {
        const r1 = await store.put('k', 1);
        const r2 = await store.put('k', 2);
        expect(await store.compareAndSet('k', 3, r1)).toBeNull();
        expect(await store.compareAndSet('k', 3, r2 + 1000)).toBeNull();
        expect(await store.getEntry('k')).toEqual({ value: 2, revision: r2 });
      });

      it('a non-zero revision on an absent key returns null and creates nothing', async () => {
        expect(await store.compareAndSet('absent', 1, 1)).toBeNull();
        expect(await store.get('absent')).toBeUndefined();
        expect(await store.list('absent')).toEqual([]);
      });

      it('a revision from before a delete never succeeds, before or after re-creation', async () => {
        const old = await store.put('k', 'old');
        expect(await store.delete('k')).toBe(true);
        expect(await store.compareAndSet('k', 'stale', old)).toBeNull();
        expect(await store.get('k')).toBeUndefined();
        const fresh = await store.compareAndSet('k', 'new', 0);
        expect(fresh).not.toBeNull();
        expect(fresh!).toBeGreaterThan(old);
        expect(await store.compareAndSet('k', 'stale', old)).toBeNull();
        expect(await store.getEntry('k')).toEqual({ value: 'new', revision: fresh });
      });

      it('revisions keep growing over several delete and re-create cycles', async () => {
        let last = 0;
        for (let i = 0; i < 4; i++) {
          const r = await store.put('k', i);
          expect(r).toBeGreaterThan(last);
          last = r;
          await store.delete('k');
        }
      });

      it('an invalid expectedRevision is refused, not treated as a conflict', async () => {
        await store.put('k', 1);
        for (const bad of [-1, 1.5, Number.NaN, '1' as unknown as number]) {
          await expect(store.compareAndSet('k', 2, bad)).rejects.toMatchObject({ name: 'ValidationError', code: 'ERR_VALIDATION' });
        }
        expect(await store.get('k')).toBe(1);
      });
    });

    describe('delete', () => {
      it('returns whether the key existed and removes it', async () => {
        await store.put('k', 1);
        expect(await store.delete('k')).toBe(true);
        expect(await store.delete('k')).toBe(false);
        expect(await store.get('k')).toBeUndefined();
        expect(await store.getEntry('k')).toBeUndefined();
        expect(await store.list('k')).toEqual([]);
      });

      it('deleting a missing key is false and harmless', async () => {
        expect(await store.delete('never')).toBe(false);
        expect(await store.putIfAbsent('never', 1)).toBe(true);
      });
    });

    describe('list', () => {
      const keys = ['b', 'a', 'a/b', 'a:c', 'ab', 'B', 'ä', '😀', 'ｚ', 'a b', 'task:1', 'task:10', 'task:2'];

      it('returns the keys under a prefix in code-unit order', async () => {
        for (const k of keys) await store.put(k, k);
        expect(await store.list('a')).toEqual(['a', 'a b', 'a/b', 'a:c', 'ab']);
        expect(await store.list('task:')).toEqual(['task:1', 'task:10', 'task:2']);
        expect(await store.list('task:1')).toEqual(['task:1', 'task:10']);
        expect(await store.list('nothing-here')).toEqual([]);
      });

      it('an empty or omitted prefix lists every key, sorted', async () => {
        for (const k of keys) await store.put(k, k);
        const all = await store.list('');
        const sorted = [...keys].sort();
        // A shared backend may hold other keys; ours must all be there, and in order.
        expect(all.filter((k) => keys.includes(k))).toEqual(sorted);
        expect([...all].sort()).toEqual(all);
        expect(await store.list()).toEqual(all);
        // Code-unit (UTF-16) order, not code-point order: '😀' (U+1F600, high half U+D83D)
        // sorts before 'ｚ' (U+FF5A); upper case before lower case.
        expect(all.indexOf('😀')).toBeLessThan(all.indexOf('ｚ'));
        expect(all.indexOf('B')).toBeLessThan(all.indexOf('a'));
      });

      it('does not list deleted keys', async () => {
        await store.put('p:1', 1);
        await store.put('p:2', 2);
        await store.delete('p:1');
        expect(await store.list('p:')).toEqual(['p:2']);
      });
    });

    describe('values are copies', () => {
      it('mutating the value passed to put does not change the store', async () => {
        const v = { list: [1, 2], nested: { x: 1 }, bytes: new Uint8Array([1, 2, 3]) };
        await store.put('k', v);
        v.list.push(3);
        v.nested.x = 99;
        v.bytes[0] = 42;
        expect(await store.get('k')).toEqual({ list: [1, 2], nested: { x: 1 }, bytes: new Uint8Array([1, 2, 3]) });
      });

      it('mutating a value read does not change the store', async () => {
        await store.put('k', { list: [1, 2], bytes: new Uint8Array([1, 2, 3]) });
        const a = await store.get<{ list: number[]; bytes: Uint8Array }>('k');
        a!.list.push(3);
        a!.bytes[0] = 42;
        const e = await store.getEntry<{ list: number[]; bytes: Uint8Array }>('k');
        e!.value.list.length = 0;
        expect(await store.get('k')).toEqual({ list: [1, 2], bytes: new Uint8Array([1, 2, 3]) });
      });

      it('putIfAbsent and compareAndSet copy too', async () => {
        const v = { n: [1] };
        await store.putIfAbsent('a', v);
        const r = await store.compareAndSet('b', v, 0);
        expect(r).not.toBeNull();
        v.n.push(2);
        expect(await store.get('a')).toEqual({ n: [1] });
        expect(await store.get('b')).toEqual({ n: [1] });
      });
    });

    describe('values of every wire type round trip', () => {
      for (const c of roundTripCases()) {
        it(c.name, async () => {
          await store.put(`v:${c.name}`, c.value);
          const got = await store.get(`v:${c.name}`);
          // The same bytes on the wire: Float64, bigint, Map order and bytes all survive.
          expect(sameOnTheWire(got, c.value)).toBe(true);
          c.check?.(got);
        });
      }

      it('values that are not plain data (or carry a __proto__ key) are refused and nothing is written', async () => {
        class Point {
          x = 1;
        }
        const bad: unknown[] = [
          undefined,
          () => 1,
          new Point(),
          new Date(0),
          Symbol('s'),
          { nested: new Point() },
          new Map([[1, 'x']] as never),
          // The wire decoder refuses a __proto__ key, so no store may accept one it could not give back.
          JSON.parse('{"__proto__": {"polluted": true}}'),
          { deep: [JSON.parse('{"a": {"__proto__": 1}}')] },
          new Map([['__proto__', 1]]),
        ];
        for (const v of bad) {
          await expect(store.put('bad', v)).rejects.toMatchObject({ name: 'ValidationError', code: 'ERR_VALIDATION' });
          await expect(store.putIfAbsent('bad', v)).rejects.toMatchObject({ name: 'ValidationError' });
          await expect(store.compareAndSet('bad', v, 0)).rejects.toMatchObject({ name: 'ValidationError' });
        }
        expect(await store.get('bad')).toBeUndefined();
        expect(await store.list('bad')).toEqual([]);
      });
    });

    describe('keys', () => {
      it('awkward keys are stored, read and listed exactly', async () => {
        const ks = validKeys();
        for (const [i, k] of ks.entries()) await store.put(k, i);
        for (const [i, k] of ks.entries()) expect(await store.get(k)).toBe(i);
        expect(await store.list('')).toEqual(expect.arrayContaining(ks));
        const listed = (await store.list('')).filter((k) => ks.includes(k));
        expect(listed).toEqual([...ks].sort());
      });

      it('keys differing only in case are distinct', async () => {
        await store.put('Key', 1);
        await store.put('key', 2);
        await store.put('KEY', 3);
        expect([await store.get('Key'), await store.get('key'), await store.get('KEY')]).toEqual([1, 2, 3]);
      });

      it('invalid keys are refused with InvalidKeyError by every call', async () => {
        for (const [label, k] of invalidKeys()) {
          const calls: Array<[string, () => Promise<unknown>]> = [
            ['get', () => store.get(k)],
            ['getEntry', () => store.getEntry(k)],
            ['put', () => store.put(k, 1)],
            ['putIfAbsent', () => store.putIfAbsent(k, 1)],
            ['compareAndSet', () => store.compareAndSet(k, 1, 0)],
            ['delete', () => store.delete(k)],
          ];
          for (const [call, run] of calls) {
            const err = await run().then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(err, `${call}(${label})`).toMatchObject({ name: 'InvalidKeyError', code: 'ERR_INVALID_KEY' });
          }
        }
        expect(await store.list('')).toEqual([]);
      });
    });

    describe('concurrency', () => {
      it(`${casWorkers} concurrent compareAndSet increment loops on one key add exactly ${casWorkers}`, async () => {
        const results = await Promise.all(Array.from({ length: casWorkers }, () => casIncrement(store, 'counter')));
        const e = await store.getEntry<number>('counter');
        expect(e?.value).toBe(casWorkers);
        // Every success got its own revision: no two writers won with the same one.
        expect(new Set(results.map((r) => r.revision)).size).toBe(casWorkers);
        expect(Math.max(...results.map((r) => r.revision))).toBe(e!.revision);
      });

      it(`${racers} concurrent putIfAbsent on one key: exactly one wins, and its value stays`, async () => {
        const won = await Promise.all(Array.from({ length: racers }, (_, i) => store.putIfAbsent('claim', { by: i })));
        expect(won.filter(Boolean)).toHaveLength(1);
        expect(await store.get('claim')).toEqual({ by: won.indexOf(true) });
      });

      it(`${racers} concurrent compareAndSet with the same revision: exactly one wins`, async () => {
        const r0 = await store.put('task', { state: 'pending' });
        const results = await Promise.all(Array.from({ length: racers }, (_, i) => store.compareAndSet('task', { state: 'assigned', to: i }, r0)));
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        expect(await store.getEntry('task')).toEqual({ value: { state: 'assigned', to: results.findIndex((r) => r !== null) }, revision: winners[0] });
      });

      it('concurrent delete and putIfAbsent leave a consistent state', async () => {
        await store.put('x', 0);
        const [deleted, ...added] = await Promise.all([store.delete('x'), ...Array.from({ length: 5 }, (_, i) => store.putIfAbsent('x', i + 1))]);
        expect(deleted).toBe(true);
        const e = await store.getEntry('x');
        // Either every putIfAbsent ran before the delete (none won, key gone), or exactly one won after it.
        const wins = added.filter(Boolean).length;
        expect(wins).toBeLessThanOrEqual(1);
        if (wins === 1) expect(e?.value).toBe(added.indexOf(true) + 1);
        else expect(e).toBeUndefined();
      });
    });

    describe('watch (when the store has it)', () => {
      it('reports writes and deletes under the prefix until unsubscribed', async (ctx) => {
        if (!store.watch) ctx.skip();
        const seen: string[] = [];
        const stop = store.watch!('w:', (k) => seen.push(k));
        await store.put('w:1', 1);
        await store.put('other', 1);
        await store.putIfAbsent('w:2', 2);
        await store.compareAndSet('w:1', 3, (await store.getEntry('w:1'))!.revision);
        await store.delete('w:2');
        await store.putIfAbsent('w:1', 9); // no write, no event
        // Events may be delivered asynchronously; wait for the expected count (bounded).
        for (let i = 0; i < 100 && seen.length < 4; i++) await new Promise((r) => setImmediate(r));
        expect(seen).toEqual(['w:1', 'w:2', 'w:1', 'w:2']);
        stop();
        await store.put('w:3', 3);
        for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
        expect(seen).toHaveLength(4);
      });
    });
  });
}
