import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeComplianceTests } from '@converge/compliance/store';
import { AbortError, ConfigError, Float64, InvalidKeyError, NotStartedError, StoreError, decodeValue } from '@converge/core';
import { FileStore, decodeKeyName, encodeKeyName } from '@converge/extensions/storage';
import { runChildJson } from '../../../../test/support/run-child.js';

let root: string;
beforeEach(async () => void (root = await mkdtemp(join(tmpdir(), 'converge-filestore-'))));
afterEach(async () => rm(root, { recursive: true, force: true }));

storeComplianceTests({ name: 'FileStore', create: async () => new FileStore({ dir: join(root, 'store') }) });

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'cas-child.ts');

describe('FileStore', () => {
  let dir: string;
  let store: FileStore;
  const stores: FileStore[] = [];
  const open = (options: Partial<ConstructorParameters<typeof FileStore>[0]> = {}): FileStore => {
    const s = new FileStore({ dir, ...options });
    stores.push(s);
    return s;
  };
  const rec = (key: string): string => join(dir, `${encodeKeyName(key)}.rec`);

  beforeEach(async () => {
    dir = join(root, 'store');
    store = open();
    await store.start();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.stop();
  });

  describe('file names', () => {
    it('path-like keys stay inside the directory, as encoded names', async () => {
      const keys = ['../evil', '../../outside', '/absolute', 'a/../../b', '..', '.', '..\\..\\win', 'C:\\x', 'a\\b', '~/home', '%2e%2e%2f'];
      for (const k of keys) await store.put(k, k);
      // Nothing beside the store directory, nothing below it but flat files.
      expect(await readdir(root)).toEqual(['store']);
      const names = await readdir(dir, { withFileTypes: true });
      expect(names.every((d) => d.isFile() && /^(?:[a-z0-9_-]|%[0-9a-f]{2})+\.rec$/.test(d.name))).toBe(true);
      expect(names).toHaveLength(keys.length);
      for (const k of keys) expect(await store.get(k)).toBe(k);
      expect(await store.list()).toEqual([...keys].sort());
    });

    it('the key encoding is reversible and yields only safe, lower-case names', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), (k) => {
          const name = encodeKeyName(k);
          expect(name).toMatch(/^(?:[a-z0-9_-]|%[0-9a-f]{2})+$/);
          expect(decodeKeyName(name)).toBe(k);
        }),
        { numRuns: 500 },
      );
      expect(encodeKeyName('Task:1')).toBe('%54ask%3a1');
      // Names a FileStore could not have written are not keys.
      for (const n of ['%54ASK', 'UPPER', 'a%zz', 'a.b', '%ff', '%2', '']) expect(decodeKeyName(n)).toBeUndefined();
    });

    it('refuses keys whose file name would be too long, accepts up to the limit', async () => {
      await store.put('a'.repeat(240), 1);
      expect(await store.get('a'.repeat(240))).toBe(1);
      await expect(store.put('a'.repeat(241), 1)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.put('é'.repeat(41), 1)).rejects.toBeInstanceOf(InvalidKeyError); // 82 UTF-8 bytes -> 246
      await expect(store.get('A'.repeat(100))).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
    });

    it('files that a FileStore did not write are not listed', async () => {
      await store.put('real', 1);
      for (const n of ['README.txt', 'UPPER.rec', 'a%zz.rec', '.hidden.rec', 'x.del']) await writeFile(join(dir, n), 'x');
      await mkdir(join(dir, 'sub.rec'));
      expect(await store.list()).toEqual(['real']);
    });
  });

  describe('records', () => {
    it('are msgpack maps { v, revision, value }', async () => {
      const revision = await store.put('k', { n: new Float64(2), s: 'x' });
      const decoded = decodeValue(await readFile(rec('k'))) as Record<string, unknown>;
      expect(decoded.v).toBe(1);
      expect(decoded.revision).toBe(revision);
      expect(decoded.value).toEqual({ n: 2, s: 'x' });
      expect(decoded.f).toEqual([['n']]);
    });

    it('a corrupt, truncated, empty or foreign record is a StoreError naming the key, never "missing"', async () => {
      const good = await store.put('k', { payload: 'x'.repeat(100) });
      expect(good).toBeGreaterThan(0);
      const bytes = await readFile(rec('k'));
      const damages: Array<[string, () => Promise<void>]> = [
        ['truncated', () => writeFile(rec('k'), bytes.subarray(0, bytes.length - 10))],
        ['cut in half', () => writeFile(rec('k'), bytes.subarray(0, bytes.length >> 1))],
        ['empty', () => truncate(rec('k'), 0)],
        ['garbage', () => writeFile(rec('k'), Buffer.from([0xc1, 0xff, 0x00]))],
        ['JSON', () => writeFile(rec('k'), JSON.stringify({ v: 1, revision: 1, value: 1 }))],
        ['another shape', () => writeFile(rec('k'), Buffer.from([0x93, 1, 2, 3]))],
        ['revision 0', () => writeFile(rec('k'), Buffer.from([0x83, 0xa1, 0x76, 1, 0xa8, ...Buffer.from('revision'), 0, 0xa5, ...Buffer.from('value'), 1]))],
      ];
      for (const [label, damage] of damages) {
        await damage();
        const calls: Array<() => Promise<unknown>> = [
          () => store.get('k'),
          () => store.getEntry('k'),
          () => store.put('k', 1),
          () => store.putIfAbsent('k', 1),
          () => store.compareAndSet('k', 1, good),
          () => store.delete('k'),
        ];
        for (const call of calls) {
          const err = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, label).toBeInstanceOf(StoreError);
          expect(err, label).toMatchObject({ code: 'ERR_STORE_CORRUPT', key: 'k' });
        }
      }
      // The damaged record is left for inspection, not silently replaced or dropped.
      expect(await store.list()).toEqual(['k']);
    });

    it('a corrupt tombstone blocks re-creation with ERR_STORE_CORRUPT', async () => {
      await store.put('k', 1);
      await store.delete('k');
      await writeFile(join(dir, `${encodeKeyName('k')}.del`), 'broken');
      await expect(store.putIfAbsent('k', 2)).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT', key: 'k' });
      expect(await store.get('k')).toBeUndefined();
    });

    it('a value over maxRecordBytes is refused and nothing is written; a bigger file reads as corrupt', async () => {
      const small = open({ maxRecordBytes: 1024 });
      await expect(small.put('big', 'x'.repeat(2000))).rejects.toMatchObject({ code: 'ERR_STORE_VALUE_TOO_LARGE', key: 'big' });
      expect(await small.get('big')).toBeUndefined();
      await store.put('big', 'x'.repeat(2000));
      await expect(small.get('big')).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
    });

    it('a deleted key leaves only a small tombstone, without the value', async () => {
      await store.put('secret', 'x'.repeat(1000));
      await store.delete('secret');
      const files = await readdir(dir);
      expect(files).toEqual([`${encodeKeyName('secret')}.del`]);
      expect((await stat(join(dir, files[0]!))).size).toBeLessThan(40);
      await store.put('secret', 1);
      expect(await readdir(dir)).toEqual([`${encodeKeyName('secret')}.rec`]);
    });
  });

  describe('lifecycle and recovery', () => {
    it('a new FileStore on the same directory sees the data and continues the revisions', async () => {
      const r1 = await store.put('kept', { a: [1, 2n ** 60n] });
      const old = await store.put('gone', 'x');
      await store.delete('gone');
      await store.stop();
      const again = open();
      await again.start();
      expect(await again.getEntry('kept')).toEqual({ value: { a: [1, 2n ** 60n] }, revision: r1 });
      expect(await again.compareAndSet('gone', 'stale', old)).toBeNull();
      const fresh = await again.putIfAbsent('gone', 'y');
      expect(fresh).toBe(true);
      expect((await again.getEntry('gone'))!.revision).toBeGreaterThan(old);
      expect(await again.list()).toEqual(['gone', 'kept']);
    });

    it('temp files of crashed writers are ignored, then removed by start(); live ones are kept', async () => {
      await store.put('k', 1);
      const hostTag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
      const deadPid = join(dir, `.tmp-${hostTag}-999999999-deadbeef-1`); // beyond any pid_max
      const oldForeign = join(dir, '.tmp-00000000-1234-cafe0000-7');
      const liveFresh = join(dir, `.tmp-${hostTag}-${process.pid}-00000000-3`);
      for (const f of [deadPid, oldForeign, liveFresh]) await writeFile(f, Buffer.from([0x81, 0xa1, 0x76, 1]));
      const hourAgo = new Date(Date.now() - 3_600_000);
      await utimes(oldForeign, hourAgo, hourAgo);
      expect(await store.list()).toEqual(['k']);
      expect(await store.get('k')).toBe(1);
      const next = open();
      await next.start();
      const left = await readdir(dir);
      expect(left).toContain(`${encodeKeyName('k')}.rec`);
      expect(left).not.toContain('.tmp-00000000-1234-cafe0000-7');
      expect(left.filter((n) => n.startsWith('.tmp-'))).toEqual([`.tmp-${hostTag}-${process.pid}-00000000-3`]);
      expect(await next.get('k')).toBe(1);
    });

    it('calls before start() start the store; calls after stop() throw NotStartedError', async () => {
      const lazyDir = join(root, 'lazy', 'nested');
      const lazy = new FileStore({ dir: lazyDir });
      stores.push(lazy);
      expect(await lazy.putIfAbsent('k', 1)).toBe(true);
      expect(await readdir(lazyDir)).toEqual([`${encodeKeyName('k')}.rec`]);
      await lazy.stop();
      await expect(lazy.get('k')).rejects.toBeInstanceOf(NotStartedError);
      await lazy.start();
      expect(await lazy.get('k')).toBe(1);
    });

    it('stop() waits for writes in progress', async () => {
      const writes = Array.from({ length: 10 }, (_, i) => store.put(`w${i}`, i));
      await store.stop();
      expect((await Promise.all(writes)).every((r) => r > 0)).toBe(true);
      const check = open();
      expect(await check.list('w')).toHaveLength(10);
    });

    it('refuses a missing directory or an out-of-range option with ConfigError', () => {
      expect(() => new FileStore({ dir: '' })).toThrow(ConfigError);
      expect(() => new FileStore(undefined as never)).toThrow(ConfigError);
      expect(() => new FileStore({ dir, lockTimeoutMs: -1 })).toThrow(ConfigError);
      expect(() => new FileStore({ dir, maxRecordBytes: Number.NaN })).toThrow(ConfigError);
    });
  });

  describe('locks', () => {
    const lockOf = (key: string): string => join(dir, `${encodeKeyName(key)}.lck`);

    it('a lock held elsewhere makes a write wait, then fail with ERR_STORE_LOCK_TIMEOUT', async () => {
      await mkdir(lockOf('k'));
      const s = open({ lockTimeoutMs: 30 });
      await expect(s.put('k', 1)).rejects.toMatchObject({ code: 'ERR_STORE_LOCK_TIMEOUT', key: 'k' });
      expect(await s.get('k')).toBeUndefined();
    });

    it('a stale lock (its holder died) is taken over', async () => {
      await mkdir(lockOf('k'));
      const longAgo = new Date(Date.now() - 3_600_000);
      await utimes(lockOf('k'), longAgo, longAgo);
      expect(await store.put('k', 1)).toBeGreaterThan(0);
      expect(await readdir(dir)).toEqual([`${encodeKeyName('k')}.rec`]);
    });

    it('an AbortSignal ends the wait for a lock with AbortError', async () => {
      await mkdir(lockOf('k'));
      const ac = new AbortController();
      const p = store.put('k', 1, { signal: ac.signal });
      setImmediate(() => ac.abort());
      await expect(p).rejects.toBeInstanceOf(AbortError);
      await expect(store.get('k', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    });

    it('no lock directory is left after a burst of concurrent writes', async () => {
      await Promise.all(Array.from({ length: 30 }, (_, i) => store.put(`k${i % 3}`, i)));
      expect((await readdir(dir)).filter((n) => !n.endsWith('.rec'))).toEqual([]);
    });
  });

  it('compareAndSet is exactly-once across OS processes', async () => {
    const CHILDREN = 3;
    const INCREMENTS = 40;
    const CLAIMS = 20;
    const runChild = (id: string): Promise<{ id: string; revisions: number[]; won: number[] }> =>
      runChildJson(CHILD, [dir, 'counter', String(INCREMENTS), String(CLAIMS), id], `child ${id}`);
    const results = await Promise.all(Array.from({ length: CHILDREN }, (_, i) => runChild(`p${i}`)));
    const total = CHILDREN * INCREMENTS;
    const entry = await store.getEntry<number>('counter');
    expect(entry?.value).toBe(total);
    const revisions = results.flatMap((r) => r.revisions);
    expect(revisions).toHaveLength(total);
    expect(new Set(revisions).size).toBe(total);
    expect(Math.max(...revisions)).toBe(entry!.revision);
    // Every claim was won by exactly one process, and the stored value names it.
    for (let i = 0; i < CLAIMS; i++) {
      const winners = results.filter((r) => r.won.includes(i));
      expect(winners, `claim:${i}`).toHaveLength(1);
      expect(await store.get(`claim:${i}`)).toEqual({ by: winners[0]!.id });
    }
    expect((await readdir(dir)).filter((n) => n.startsWith('.tmp-') || n.endsWith('.lck'))).toEqual([]);
  });
});
