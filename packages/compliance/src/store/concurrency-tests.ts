// Many callers at once on one store (compareAndSet loops, putIfAbsent and delete races), and watch.
import { expect, it } from 'vitest';
import type { Store } from '@converge/core';

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

/** Registers the races: `casWorkers` compareAndSet loops, `racers` putIfAbsent and compareAndSet callers, delete against putIfAbsent. */
export function concurrencyTests(getStore: () => Store, casWorkers: number, racers: number): void {
  it(`${casWorkers} concurrent compareAndSet increment loops on one key add exactly ${casWorkers}`, async () => {
    const store = getStore();
    const results = await Promise.all(Array.from({ length: casWorkers }, () => casIncrement(store, 'counter')));
    const e = await store.getEntry<number>('counter');
    expect(e?.value).toBe(casWorkers);
    // Every success got its own revision: no two writers won with the same one.
    expect(new Set(results.map((r) => r.revision)).size).toBe(casWorkers);
    expect(Math.max(...results.map((r) => r.revision))).toBe(e!.revision);
  });

  it(`${racers} concurrent putIfAbsent on one key: exactly one wins, and its value stays`, async () => {
    const store = getStore();
    const won = await Promise.all(Array.from({ length: racers }, (_, i) => store.putIfAbsent('claim', { by: i })));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await store.get('claim')).toEqual({ by: won.indexOf(true) });
  });

  it(`${racers} concurrent compareAndSet with the same revision: exactly one wins`, async () => {
    const store = getStore();
    const r0 = await store.put('task', { state: 'pending' });
    const results = await Promise.all(Array.from({ length: racers }, (_, i) => store.compareAndSet('task', { state: 'assigned', to: i }, r0)));
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(await store.getEntry('task')).toEqual({ value: { state: 'assigned', to: results.findIndex((r) => r !== null) }, revision: winners[0] });
  });

  it('concurrent delete and putIfAbsent leave a consistent state', async () => {
    const store = getStore();
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
}

/** Registers the test of `watch`, skipped when the store has none. */
export function watchTests(getStore: () => Store): void {
  it('reports writes and deletes under the prefix until unsubscribed', async (ctx) => {
    const store = getStore();
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
}
