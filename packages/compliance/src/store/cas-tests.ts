// compareAndSet: create, succeed, conflict, and revisions that never come back after a delete.
import { expect, it } from 'vitest';
import type { Store } from '@converge/core';

/** Registers the tests of compareAndSet on one lifetime of a key: create, success, conflict. */
export function compareAndSetTests(getStore: () => Store): void {
  it('expectedRevision 0 creates an absent key and fails on a present one', async () => {
    const store = getStore();
    const r = await store.compareAndSet('k', 'v', 0);
    expect(r).not.toBeNull();
    expect(await store.getEntry('k')).toEqual({ value: 'v', revision: r });
    expect(await store.compareAndSet('k', 'w', 0)).toBeNull();
    expect(await store.get('k')).toBe('v');
  });

  it('succeeds with the current revision and returns a higher one', async () => {
    const store = getStore();
    const r1 = await store.put('k', 1);
    const r2 = await store.compareAndSet('k', 2, r1);
    expect(r2).not.toBeNull();
    expect(r2!).toBeGreaterThan(r1);
    expect(await store.getEntry('k')).toEqual({ value: 2, revision: r2 });
  });

  it('a conflict returns null and changes nothing', async () => {
    const store = getStore();
    const r1 = await store.put('k', 1);
    const r2 = await store.put('k', 2);
    expect(await store.compareAndSet('k', 3, r1)).toBeNull();
    expect(await store.compareAndSet('k', 3, r2 + 1000)).toBeNull();
    expect(await store.getEntry('k')).toEqual({ value: 2, revision: r2 });
  });

  it('a non-zero revision on an absent key returns null and creates nothing', async () => {
    const store = getStore();
    expect(await store.compareAndSet('absent', 1, 1)).toBeNull();
    expect(await store.get('absent')).toBeUndefined();
    expect(await store.list('absent')).toEqual([]);
  });
}

/** Registers the tests of compareAndSet across deletes, and of invalid revisions. */
export function compareAndSetAcrossDeletesTests(getStore: () => Store): void {
  it('a revision from before a delete never succeeds, before or after re-creation', async () => {
    const store = getStore();
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
    const store = getStore();
    let last = 0;
    for (let i = 0; i < 4; i++) {
      const r = await store.put('k', i);
      expect(r).toBeGreaterThan(last);
      last = r;
      await store.delete('k');
    }
  });

  it('an invalid expectedRevision is refused, not treated as a conflict', async () => {
    const store = getStore();
    await store.put('k', 1);
    for (const bad of [-1, 1.5, Number.NaN, '1' as unknown as number]) {
      await expect(store.compareAndSet('k', 2, bad)).rejects.toMatchObject({ name: 'ValidationError', code: 'ERR_VALIDATION' });
    }
    expect(await store.get('k')).toBe(1);
  });
}
