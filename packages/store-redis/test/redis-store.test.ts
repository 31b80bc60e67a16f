import { randomBytes } from 'node:crypto';
import { RESP_TYPES } from 'redis';
import { describe, expect, it } from 'vitest';
import { globEscape, RedisStore } from '@converge/store-redis';
import { REDIS_URL, dropPrefix, redisBackend, uniquePrefix, withAdmin } from './helpers.js';
import { backendStoresPerTest, eventually } from '@converge/compliance/store';
import { storeDownAtStartTest, storeReconnectTest, storeServerTests, storeUrlOutageTest, storeWatchTests } from '@converge/compliance/store';

// The server is checked before all tests; every store made here is stopped and its keys deleted after each test.
const fresh = backendStoresPerTest(redisBackend);

describe('key layout', () => {
  it('one hash per key (binary msgpack value, revision) and a global revision counter', async () => {
    const s = fresh();
    await s.start();
    const r = await s.put('task:1', new Uint8Array([0, 255, 10]));
    const k = `${s.prefix}key:task:1`;
    const { fields, value, revision, counter, type } = await withAdmin(async (c) => {
      const [v, rev] = await c.sendCommand<[Buffer, Buffer]>(['HMGET', k, 'value', 'revision'], { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } });
      return { type: await c.type(k), fields: await c.hKeys(k), value: v, revision: rev, counter: await c.get(`${s.prefix}revision`) };
    });
    expect(type).toBe('hash');
    expect(fields.sort()).toEqual(['revision', 'value']);
    // msgpack bin8 of three bytes: c4 03 00 ff 0a
    expect([...value]).toEqual([0xc4, 3, 0, 255, 10]);
    expect(revision.toString()).toBe(String(r));
    expect(counter).toBe(String(r));
  });

  it('globEscape makes SCAN MATCH literal', () => {
    expect(globEscape('a*b?c[d]e\\f^g')).toBe('a\\*b\\?c\\[d\\]e\\\\f\\^g');
  });
});

describe('operations', () => {
  it('list treats glob metacharacters in the prefix literally and sorts in code-unit order', async () => {
    const s = fresh();
    await s.start();
    const keys = ['a*b', 'a?b', 'a[b]', 'a\\b', 'ab', 'axb', 'a\u{10FFFF}', 'a\uFFFF', 'b'];
    for (const k of keys) await s.put(k, 1);
    expect(await s.list('a*')).toEqual(['a*b']);
    expect(await s.list('a?')).toEqual(['a?b']);
    expect(await s.list('a[')).toEqual(['a[b]']);
    expect(await s.list('a\\')).toEqual(['a\\b']);
    expect(await s.list('a')).toEqual(['a*b', 'a?b', 'a[b]', 'a\\b', 'ab', 'axb', 'a\u{10FFFF}', 'a\uFFFF']);
  });

  it('list pages through the key index (more keys than one page)', async () => {
    const s = fresh({ scanCount: 10 });
    await s.start();
    const keys = Array.from({ length: 120 }, (_, i) => `p:${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => s.put(k, 1)));
    await s.put('q:1', 1);
    expect(await s.list('p:')).toEqual(keys);
  });

  it('two instances with different prefixes on one server do not see each other', async () => {
    const a = fresh();
    const b = fresh();
    await Promise.all([a.start(), b.start()]);
    await a.put('k', 'a');
    expect(await b.get('k')).toBeUndefined();
    expect(await b.list('')).toEqual([]);
  });

  storeServerTests({ create: (o) => fresh(o) });

  it('bad options are ConfigError', () => {
    expect(() => new RedisStore({ url: 'http://x' })).toThrow(expect.objectContaining({ name: 'ConfigError', key: 'url' }));
    expect(() => new RedisStore({ clientName: 'has space' })).toThrow(expect.objectContaining({ key: 'clientName' }));
    expect(() => new RedisStore({ scanCount: 0 })).toThrow(expect.objectContaining({ key: 'scanCount' }));
    expect(() => new RedisStore({ retry: { attempts: 0 } })).toThrow(expect.objectContaining({ key: 'retry.attempts' }));
  });
});

describe('key index', () => {
  it('list reads the index, never SCAN: a connection refused SCAN lists, among many unrelated keys', async () => {
    const s = fresh();
    await s.start();
    await s.put('a:1', 1);
    await s.put('a:2', 2);
    await s.put('b:1', 3);
    await s.delete('a:2');
    expect(await s.list('a:')).toEqual(['a:1']); // builds the index (one SCAN, the only one)
    // Unrelated keys in the same database: SCAN would walk them all.
    const other = uniquePrefix('other');
    await withAdmin(async (c) => {
      for (let i = 0; i < 5_000; i += 500) await c.mSet(Array.from({ length: 500 }, (_, j) => [`${other}${i + j}`, 'x'] as [string, string]));
    });
    const user = `cvt-noscan-${randomBytes(4).toString('hex')}`;
    await withAdmin((c) => c.sendCommand(['ACL', 'SETUSER', user, 'on', 'nopass', '~*', '&*', '+@all', '-scan']));
    const url = new URL(REDIS_URL);
    url.username = user;
    url.password = 'x';
    const noScan = new RedisStore({ url: url.toString(), prefix: s.prefix, retry: { attempts: 1 } });
    try {
      await noScan.start();
      await expect(noScan.reindex()).rejects.toThrow(/scan/i); // the user really cannot SCAN
      expect(await noScan.list('a:')).toEqual(['a:1']);
      expect(await noScan.list('')).toEqual(['a:1', 'b:1']);
      await noScan.put('a:3', 1);
      expect(await s.list('a')).toEqual(['a:1', 'a:3']);
    } finally {
      await noScan.stop();
      await withAdmin((c) => c.sendCommand(['ACL', 'DELUSER', user]));
      await dropPrefix(other);
    }
  });

  it('keys written without the index (an older version) are indexed by the first list, or by reindex', async () => {
    const s = fresh();
    await s.start();
    await s.put('new:1', 1);
    await withAdmin(async (c) => {
      // What a version without the index wrote: hashes only (and the index key deleted).
      await c.del(`${s.prefix}index`);
      for (const k of ['old:1', 'old:2', 'new:1']) await c.hSet(`${s.prefix}key:${k}`, { value: Buffer.from([1]), revision: '1' });
    });
    expect(await s.list('old:')).toEqual(['old:1', 'old:2']);
    expect(await s.list()).toEqual(['new:1', 'old:1', 'old:2']);
    // A process of the old version writes again: reindex picks it up.
    await withAdmin((c) => c.hSet(`${s.prefix}key:old:3`, { value: Buffer.from([1]), revision: '2' }));
    expect(await s.list('old:')).toEqual(['old:1', 'old:2']);
    expect(await s.reindex()).toBe(4);
    expect(await s.list('old:')).toEqual(['old:1', 'old:2', 'old:3']);
  });

  it('a key whose hash vanished (a TTL ran out, evicted, deleted by hand) is not listed and leaves the index', async () => {
    const s = fresh();
    await s.start();
    for (const k of ['t:1', 't:2', 't:3']) await s.put(k, 1);
    await withAdmin(async (c) => {
      await c.pExpire(`${s.prefix}key:t:2`, 1);
      await c.del(`${s.prefix}key:t:3`);
    });
    expect(await eventually(async () => (await withAdmin((c) => c.exists(`${s.prefix}key:t:2`))) === 0)).toBe(true);
    expect(await s.list('t:')).toEqual(['t:1']);
    expect(await withAdmin((c) => c.zRange(`${s.prefix}index`, 0, -1))).toEqual(['', 't:1']);
    expect(await s.get('t:2')).toBeUndefined();
  });
});

describe('corrupt records', () => {
  it('garbage bytes, a missing value, a bad revision or a non-hash key: ERR_STORE_CORRUPT naming the key', async () => {
    const s = fresh();
    await s.start();
    await s.put('good', 1);
    await withAdmin(async (c) => {
      await c.hSet(`${s.prefix}key:garbage`, { value: Buffer.from([0xc1, 0xff]), revision: '3' });
      await c.hSet(`${s.prefix}key:novalue`, { revision: '3' });
      await c.hSet(`${s.prefix}key:badrev`, { value: Buffer.from([0x01]), revision: 'x1' });
      await c.set(`${s.prefix}key:string`, 'not a hash');
    });
    for (const k of ['garbage', 'novalue', 'badrev', 'string']) {
      const err = await s.getEntry(k).catch((e: unknown) => e);
      expect(err, k).toMatchObject({ name: 'StoreError', code: 'ERR_STORE_CORRUPT', key: k });
      expect((err as Error).message).toContain(JSON.stringify(k));
    }
    await expect(s.compareAndSet('string', 1, 5)).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT', key: 'string' });
    expect(s.stats.corrupt).toBe(5);
    // The rest of the store works; put and delete repair a bad key.
    expect(await s.get('good')).toBe(1);
    await s.put('string', 'fixed');
    expect(await s.get('string')).toBe('fixed');
    expect(await s.delete('garbage')).toBe(true);
  });
});

describe('watch', () => {
  storeWatchTests({
    pair: () => fresh.sharing({}, {}),
    counters: (s) => s.stats,
  });

  it('the change message is "<origin> <key>" on <prefix>changes', async () => {
    const s = fresh();
    await s.start();
    const messages: string[] = [];
    const sub = (await import('redis')).createClient({ url: REDIS_URL });
    sub.on('error', () => undefined);
    await sub.connect();
    try {
      await sub.subscribe(s.channel, (m) => messages.push(m));
      await s.put('x y', 1);
      expect(await eventually(() => messages.length === 1)).toBe(true);
      expect(messages[0]).toMatch(/^[0-9a-f]{16} x y$/);
    } finally {
      sub.destroy();
    }
  });
});

describe('server unavailable', () => {
  storeDownAtStartTest({
    title: 'a server that is down at start: StoreError ERR_STORE_UNAVAILABLE after bounded reconnect attempts',
    create: (retry) => new RedisStore({ url: 'redis://127.0.0.1:1', retry }),
    attempts: '3 connection attempts',
  });

  let name = ''; // the client name of the store under test, set by open()
  storeReconnectTest({
    title: 'killed connections mid-run: operations reconnect, state is intact, watch resumes',
    open: () => {
      const prefix = uniquePrefix();
      name = `cvt-${Math.random().toString(36).slice(2, 10)}`;
      return { store: fresh({ clientName: name, retry: { attempts: 5, baseDelayMs: 20, maxDelayMs: 200 } }, prefix), other: fresh({ listen: false }, prefix) };
    },
    kill: async () => {
      const killed = await withAdmin(async (c) => {
        const ours = (await c.clientList()).filter((x) => x.name === name);
        for (const x of ours) await c.clientKill({ filter: 'ID', id: Number(x.id) } as never);
        return ours.length;
      });
      expect(killed).toBe(2); // the command connection and the subscriber
    },
    afterReconnect: (s) => {
      expect(s.stats.connectionLost).toBeGreaterThanOrEqual(1);
    },
  });

  storeUrlOutageTest({
    url: REDIS_URL,
    defaultPort: 6379,
    open: (url) => {
      const [through, direct] = fresh.sharing({ url, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 } }, { listen: false });
      return { through, direct };
    },
    whileDown: (s) => {
      expect(s.stats.connectionLost).toBeGreaterThanOrEqual(1);
    },
  });
});
