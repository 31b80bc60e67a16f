import { RESP_TYPES } from 'redis';
import { beforeAll, describe, expect, it } from 'vitest';
import { globEscape, RedisStore } from '@converge/store-redis';
import { REDIS_URL, redisBackend, requireRedis, uniquePrefix, withAdmin } from './helpers.js';
import { eventually, storeOutageTest, storeReconnectTest, backendStoresPerTest, storeServerTests, storeWatchTests } from '@converge/compliance/store';

beforeAll(requireRedis);

// Every store made here is stopped and its keys deleted after each test.
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

  it('list pages through SCAN cursors (more keys than one COUNT step)', async () => {
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
    pair: () => {
      const prefix = uniquePrefix();
      return [fresh({}, prefix), fresh({}, prefix)];
    },
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
  it('a server that is down at start: StoreError ERR_STORE_UNAVAILABLE after bounded reconnect attempts', async () => {
    const s = new RedisStore({ url: 'redis://127.0.0.1:1', retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
    const err = await s.start().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StoreError', code: 'ERR_STORE_UNAVAILABLE' });
    expect((err as Error).message).toContain('3 connection attempts');
    await expect(s.get('k')).rejects.toMatchObject({ name: 'NotStartedError' });
    await s.stop();
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

  storeOutageTest({
    server: { host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) },
    open: (proxyPort) => {
      const url = new URL(REDIS_URL);
      url.host = `127.0.0.1:${proxyPort}`;
      const prefix = uniquePrefix();
      return {
        through: fresh({ url: url.toString(), retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 } }, prefix),
        direct: fresh({ listen: false }, prefix),
      };
    },
    whileDown: (s) => {
      expect(s.stats.connectionLost).toBeGreaterThanOrEqual(1);
    },
  });
});
