// What a Store gives back: copies, every wire type unchanged, invalid values refused, and keys.
import { expect, it } from 'vitest';
import type { Store } from '@converge/core';
import { roundTripCases, sameOnTheWire } from './values.js';
import { invalidKeys, validKeys } from './keys.js';

/** Registers the tests that values are copied on the way in and out. */
export function copyTests(getStore: () => Store): void {
  it('mutating the value passed to put does not change the store', async () => {
    const store = getStore();
    const v = { list: [1, 2], nested: { x: 1 }, bytes: new Uint8Array([1, 2, 3]) };
    await store.put('k', v);
    v.list.push(3);
    v.nested.x = 99;
    v.bytes[0] = 42;
    expect(await store.get('k')).toEqual({ list: [1, 2], nested: { x: 1 }, bytes: new Uint8Array([1, 2, 3]) });
  });

  it('mutating a value read does not change the store', async () => {
    const store = getStore();
    await store.put('k', { list: [1, 2], bytes: new Uint8Array([1, 2, 3]) });
    const a = await store.get<{ list: number[]; bytes: Uint8Array }>('k');
    a!.list.push(3);
    a!.bytes[0] = 42;
    const e = await store.getEntry<{ list: number[]; bytes: Uint8Array }>('k');
    e!.value.list.length = 0;
    expect(await store.get('k')).toEqual({ list: [1, 2], bytes: new Uint8Array([1, 2, 3]) });
  });

  it('putIfAbsent and compareAndSet copy too', async () => {
    const store = getStore();
    const v = { n: [1] };
    await store.putIfAbsent('a', v);
    const r = await store.compareAndSet('b', v, 0);
    expect(r).not.toBeNull();
    v.n.push(2);
    expect(await store.get('a')).toEqual({ n: [1] });
    expect(await store.get('b')).toEqual({ n: [1] });
  });
}

/** Registers the round trip of every wire type, and the refusal of values that are not plain data. */
export function wireTypeTests(getStore: () => Store): void {
  for (const c of roundTripCases()) {
    it(c.name, async () => {
      const store = getStore();
      await store.put(`v:${c.name}`, c.value);
      const got = await store.get(`v:${c.name}`);
      // The same bytes on the wire: Float64, bigint, Map order and bytes all survive.
      expect(sameOnTheWire(got, c.value)).toBe(true);
      c.check?.(got);
    });
  }

  it('values that are not plain data (or carry a __proto__ key) are refused and nothing is written', async () => {
    const store = getStore();
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
}

/** Registers the tests of awkward, case-differing and invalid keys. */
export function keyTests(getStore: () => Store): void {
  it('awkward keys are stored, read and listed exactly', async () => {
    const store = getStore();
    const ks = validKeys();
    for (const [i, k] of ks.entries()) await store.put(k, i);
    for (const [i, k] of ks.entries()) expect(await store.get(k)).toBe(i);
    expect(await store.list('')).toEqual(expect.arrayContaining(ks));
    const listed = (await store.list('')).filter((k) => ks.includes(k));
    expect(listed).toEqual([...ks].sort());
  });

  it('keys differing only in case are distinct', async () => {
    const store = getStore();
    await store.put('Key', 1);
    await store.put('key', 2);
    await store.put('KEY', 3);
    expect([await store.get('Key'), await store.get('key'), await store.get('KEY')]).toEqual([1, 2, 3]);
  });

  it('invalid keys are refused with InvalidKeyError by every call', async () => {
    const store = getStore();
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
}
