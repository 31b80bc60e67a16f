// The single-key contract of a Store: get, getEntry, put, putIfAbsent, delete, and prefix listing.
import { expect, it } from 'vitest';
import type { Store } from '@converge/core';

/** Registers the tests of get, getEntry and put: revisions, replacement, independent keys. */
export function getPutTests(getStore: () => Store): void {
  it('a missing key reads as undefined', async () => {
    const store = getStore();
    expect(await store.get('missing')).toBeUndefined();
    expect(await store.getEntry('missing')).toBeUndefined();
  });

  it('put returns a positive integer revision that getEntry reports', async () => {
    const store = getStore();
    const rev = await store.put('k', { a: 1 });
    expect(Number.isSafeInteger(rev) && rev > 0).toBe(true);
    expect(await store.get('k')).toEqual({ a: 1 });
    expect(await store.getEntry('k')).toEqual({ value: { a: 1 }, revision: rev });
  });

  it('every put raises the revision and replaces the value', async () => {
    const store = getStore();
    const revs: number[] = [];
    for (let i = 0; i < 5; i++) revs.push(await store.put('k', i));
    for (let i = 1; i < revs.length; i++) expect(revs[i]).toBeGreaterThan(revs[i - 1]!);
    expect(await store.getEntry('k')).toEqual({ value: 4, revision: revs[4] });
  });

  it('keys are independent', async () => {
    const store = getStore();
    await store.put('a', 'A');
    await store.put('b', 'B');
    expect(await store.get('a')).toBe('A');
    expect(await store.get('b')).toBe('B');
  });
}

/** Registers the tests of putIfAbsent, also after a delete. */
export function putIfAbsentTests(getStore: () => Store): void {
  it('writes only when the key has no value', async () => {
    const store = getStore();
    expect(await store.putIfAbsent('k', 'first')).toBe(true);
    expect(await store.putIfAbsent('k', 'second')).toBe(false);
    expect(await store.get('k')).toBe('first');
  });

  it('writes again after a delete, at a higher revision', async () => {
    const store = getStore();
    await store.putIfAbsent('k', 1);
    const r1 = (await store.getEntry('k'))!.revision;
    await store.delete('k');
    expect(await store.putIfAbsent('k', 2)).toBe(true);
    const e = await store.getEntry('k');
    expect(e?.value).toBe(2);
    expect(e!.revision).toBeGreaterThan(r1);
  });
}

/** Registers the tests of delete. */
export function deleteTests(getStore: () => Store): void {
  it('returns whether the key existed and removes it', async () => {
    const store = getStore();
    await store.put('k', 1);
    expect(await store.delete('k')).toBe(true);
    expect(await store.delete('k')).toBe(false);
    expect(await store.get('k')).toBeUndefined();
    expect(await store.getEntry('k')).toBeUndefined();
    expect(await store.list('k')).toEqual([]);
  });

  it('deleting a missing key is false and harmless', async () => {
    const store = getStore();
    expect(await store.delete('never')).toBe(false);
    expect(await store.putIfAbsent('never', 1)).toBe(true);
  });
}

/** Registers the tests of list: prefixes, code-unit order, deleted keys. */
export function listTests(getStore: () => Store): void {
  const keys = ['b', 'a', 'a/b', 'a:c', 'ab', 'B', 'ä', '😀', 'ｚ', 'a b', 'task:1', 'task:10', 'task:2'];

  it('returns the keys under a prefix in code-unit order', async () => {
    const store = getStore();
    for (const k of keys) await store.put(k, k);
    expect(await store.list('a')).toEqual(['a', 'a b', 'a/b', 'a:c', 'ab']);
    expect(await store.list('task:')).toEqual(['task:1', 'task:10', 'task:2']);
    expect(await store.list('task:1')).toEqual(['task:1', 'task:10']);
    expect(await store.list('nothing-here')).toEqual([]);
  });

  it('an empty or omitted prefix lists every key, sorted', async () => {
    const store = getStore();
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
    const store = getStore();
    await store.put('p:1', 1);
    await store.put('p:2', 2);
    await store.delete('p:1');
    expect(await store.list('p:')).toEqual(['p:2']);
  });
}
