import { describe, expect, it } from 'vitest';
import { AbortError, ConfigError, Float64, InvalidKeyError } from '@converge/core';
import { heardPastThrowingListener, storeComplianceTests } from '@converge/compliance/store';
import { MemoryStore } from '@converge/extensions/storage';

storeComplianceTests({ name: 'MemoryStore', create: async () => new MemoryStore() });

describe('MemoryStore', () => {
  it('keeps exact value types (Float64, bigint in the safe range, Map without index-like keys)', async () => {
    const store = new MemoryStore();
    const value = { f: new Float64(2.5), small: 5n, m: new Map([['a', 1]]) };
    await store.put('k', value);
    const got = await store.get<typeof value>('k');
    expect(got).toEqual(value);
    expect(got!.f).toBeInstanceOf(Float64);
    expect(typeof got!.small).toBe('bigint');
    expect(got!.m).toBeInstanceOf(Map);
  });

  it('maxKeys bounds new keys with ERR_STORE_FULL; existing keys stay writable', async () => {
    const store = new MemoryStore({ maxKeys: 2 });
    await store.put('a', 1);
    await store.put('b', 1);
    await expect(store.put('c', 1)).rejects.toMatchObject({ name: 'StoreError', code: 'ERR_STORE_FULL', key: 'c' });
    await expect(store.putIfAbsent('c', 1)).rejects.toMatchObject({ code: 'ERR_STORE_FULL' });
    expect(await store.put('a', 2)).toBeGreaterThan(0);
    await store.delete('b');
    expect(await store.putIfAbsent('c', 1)).toBe(true);
  });

  it('maxKeyLength bounds keys; bad options are a ConfigError', async () => {
    const store = new MemoryStore({ maxKeyLength: 4 });
    await store.put('abcd', 1);
    await expect(store.put('abcde', 1)).rejects.toBeInstanceOf(InvalidKeyError);
    expect(() => new MemoryStore({ maxKeys: 0 })).toThrow(ConfigError);
  });

  it('a throwing watch listener is counted and reported, and the others still hear the key', async () => {
    const errors: string[] = [];
    const store = new MemoryStore({ onWatchError: (_e, key) => errors.push(key) });
    expect(await heardPastThrowingListener(store)).toEqual(['k']);
    expect(errors).toEqual(['k']);
    expect(store.watchErrors).toBe(1);
  });

  it('an aborted signal rejects with AbortError', async () => {
    const store = new MemoryStore();
    await expect(store.put('k', 1, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(await store.get('k')).toBeUndefined();
  });
});
