import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresStore } from '@converge/store-postgres';
import { PG_URL, postgresBackend, uniqueTable, withAdmin } from './helpers.js';
import { backendStoresPerTest, eventually } from '@converge/compliance/store';
import { storeDownAtStartTest, storeReconnectTest, storeServerTests, storeUrlOutageTest, storeWatchTests } from '@converge/compliance/store';

// The server is checked before all tests; every store made here is stopped and its table dropped after each test.
const fresh = backendStoresPerTest(postgresBackend);

describe('schema', () => {
  it('start() creates the table with the documented columns, key in COLLATE "C"', async () => {
    const s = fresh();
    await s.start();
    const cols = await withAdmin((c) =>
      c.query<{ column_name: string; data_type: string; collation_name: string | null; is_nullable: string }>(
        'SELECT column_name, data_type, collation_name, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
        [s.table],
      ),
    );
    expect(cols.rows).toEqual([
      { column_name: 'key', data_type: 'text', collation_name: 'C', is_nullable: 'NO' },
      { column_name: 'revision', data_type: 'bigint', collation_name: null, is_nullable: 'NO' },
      { column_name: 'value', data_type: 'bytea', collation_name: null, is_nullable: 'NO' },
      { column_name: 'float_paths', data_type: 'bytea', collation_name: null, is_nullable: 'YES' },
      { column_name: 'updated_at', data_type: 'timestamp with time zone', collation_name: null, is_nullable: 'NO' },
    ]);
  });

  it('prefix listing is an index range scan', async () => {
    const s = fresh();
    await s.start();
    const plan = await withAdmin(async (c) => {
      await c.query('SET enable_seqscan = off');
      const r = await c.query(`EXPLAIN SELECT key FROM ${pg.escapeIdentifier(s.table)} WHERE key >= $1 AND key < $2`, ['task:', 'task;']);
      return r.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Index Only Scan|Index Scan|Bitmap Index Scan/);
  });

  it('concurrent starts on one new table all succeed and share one revision sequence', async () => {
    const table = uniqueTable();
    const stores = [fresh({}, table), fresh({}, table), fresh({}, table)];
    await Promise.all(stores.map((s) => s.start()));
    const revs = await Promise.all(stores.map((s, i) => s.put(`k${i}`, i)));
    expect(new Set(revs).size).toBe(3);
    expect(await stores[0]!.list('')).toEqual(['k0', 'k1', 'k2']);
  });

  it('refuses an existing table that lacks the columns it needs', async () => {
    const table = uniqueTable();
    await withAdmin((c) => c.query(`CREATE TABLE ${table} (key text primary key, v int)`));
    const s = fresh({}, table);
    await expect(s.start()).rejects.toMatchObject({ name: 'StoreError', code: 'ERR_STORE_SCHEMA' });
  });
});

describe('operations', () => {
  it('list treats LIKE wildcards, backslashes and U+10FFFF literally, in code-unit order', async () => {
    const s = fresh();
    await s.start();
    const keys = ['a%b', 'a_b', 'a\\b', 'ab', 'axb', 'a\u{10FFFF}', 'a\u{10FFFF}z', '\u{10FFFF}x', 'a\uFFFF', 'b'];
    for (const k of keys) await s.put(k, 1);
    expect(await s.list('a%')).toEqual(['a%b']);
    expect(await s.list('a_')).toEqual(['a_b']);
    expect(await s.list('a\\')).toEqual(['a\\b']);
    expect(await s.list('\u{10FFFF}')).toEqual(['\u{10FFFF}x']);
    expect(await s.list('a\u{10FFFF}')).toEqual(['a\u{10FFFF}', 'a\u{10FFFF}z']);
    // UTF-16 order puts U+10FFFF (a surrogate pair) before U+FFFF; UTF-8 byte order would not.
    expect(await s.list('a')).toEqual(['a%b', 'a\\b', 'a_b', 'ab', 'axb', 'a\u{10FFFF}', 'a\u{10FFFF}z', 'a\uFFFF']);
  });

  it('revisions from two instances on one table never repeat, and a stale one never succeeds', async () => {
    const table = uniqueTable();
    const a = fresh({}, table);
    const b = fresh({}, table);
    await Promise.all([a.start(), b.start()]);
    const r1 = await a.put('k', 1);
    expect(await b.delete('k')).toBe(true);
    const r2 = await b.put('k', 2);
    expect(r2).toBeGreaterThan(r1);
    expect(await a.compareAndSet('k', 3, r1)).toBeNull();
    const r3 = await a.compareAndSet('k', 3, r2);
    expect(r3).toBeGreaterThan(r2);
    expect(await b.getEntry('k')).toEqual({ value: 3, revision: r3 });
  });

  storeServerTests({ create: (o) => fresh(o) });

  it('bad options are ConfigError', () => {
    expect(() => new PostgresStore({ connectionString: PG_URL, table: 'drop table;' })).toThrow(expect.objectContaining({ name: 'ConfigError', key: 'table' }));
    expect(() => new PostgresStore({ connectionString: PG_URL, channel: 'a-b' })).toThrow(expect.objectContaining({ name: 'ConfigError', key: 'channel' }));
    expect(() => new PostgresStore({} as never)).toThrow(expect.objectContaining({ name: 'ConfigError' }));
    expect(() => new PostgresStore({ connectionString: PG_URL, maxConnections: 0 })).toThrow(expect.objectContaining({ key: 'maxConnections' }));
    expect(() => new PostgresStore({ connectionString: PG_URL, retry: { attempts: 0 } })).toThrow(expect.objectContaining({ key: 'retry.attempts' }));
  });

  it('with a caller-owned pool, stop() leaves the pool open', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    try {
      const table = uniqueTable();
      const s = new PostgresStore({ pool, table });
      fresh.track(s);
      await s.start();
      await s.put('k', 1);
      await s.stop();
      expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});

describe('corrupt records', () => {
  it('garbage bytes are StoreError ERR_STORE_CORRUPT naming the key; put repairs the key', async () => {
    const s = fresh();
    await s.start();
    await s.put('good', 1);
    await withAdmin((c) => c.query(`INSERT INTO ${pg.escapeIdentifier(s.table)} (key, revision, value) VALUES ('bad', 99, '\\xc1ffff'::bytea)`));
    const err = await s.getEntry('bad').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StoreError', code: 'ERR_STORE_CORRUPT', key: 'bad' });
    expect((err as Error).message).toContain('"bad"');
    await expect(s.get('bad')).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
    expect(s.stats.corrupt).toBe(2);
    // The rest of the store is unaffected, and the bad key can be overwritten or deleted.
    expect(await s.get('good')).toBe(1);
    expect(await s.list('')).toEqual(['bad', 'good']);
    await s.put('bad', 'fixed');
    expect(await s.get('bad')).toBe('fixed');
  });

  it('a float path list that does not match the value is ERR_STORE_CORRUPT', async () => {
    const s = fresh();
    await s.start();
    // value = msgpack "x" (a1 78), float paths = [["nope"]] (91 91 a4 6e 6f 70 65)
    await withAdmin((c) =>
      c.query(`INSERT INTO ${pg.escapeIdentifier(s.table)} (key, revision, value, float_paths) VALUES ('k', 5, '\\xa178'::bytea, '\\x9191a46e6f7065'::bytea)`),
    );
    await expect(s.getEntry('k')).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT', key: 'k' });
  });
});

describe('watch', () => {
  storeWatchTests({
    pair: () => fresh.sharing({}, {}),
    counters: (s) => s.stats,
  });

  it('with notify: false other instances hear nothing, while the data is shared as usual', async () => {
    const [quiet, loud, watcher] = fresh.sharing({ notify: false, listen: false }, {}, {});
    await Promise.all([quiet.start(), loud.start(), watcher.start()]);
    const seen: string[] = [];
    watcher.watch('', (k) => seen.push(k));
    await quiet.put('silent', 1);
    expect(await quiet.delete('silent')).toBe(true);
    await quiet.put('silent2', 1);
    // A later NOTIFY from another writer arrives; had the quiet ones notified, they would be first.
    await loud.put('marker', 1);
    expect(await eventually(() => seen.includes('marker'))).toBe(true);
    expect(seen).toEqual(['marker']);
    expect(await watcher.get('silent2')).toBe(1);
  });

  it('with listen: false there is no LISTEN connection, and own writes are still heard', async () => {
    const s = fresh({ listen: false });
    await s.start();
    expect(s.listening).toBe(false);
    const seen: string[] = [];
    s.watch('', (k) => seen.push(k));
    await s.put('k', 1);
    expect(seen).toEqual(['k']);
  });
});

describe('server unavailable', () => {
  storeDownAtStartTest({
    title: 'a server that is down at start: StoreError ERR_STORE_UNAVAILABLE after the bounded retries',
    create: (retry) => new PostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test', retry }),
    attempts: '3 attempts',
    afterFailedStart: (s) => {
      expect(s.stats).toMatchObject({ retries: 2, unavailable: 1 });
    },
  });

  let app = ''; // the application_name of the store under test, set by open()
  storeReconnectTest({
    title: 'terminated backend connections mid-run: operations reconnect, state is intact, watch resumes',
    open: () => {
      const table = uniqueTable();
      app = `cvt-${Math.random().toString(36).slice(2, 10)}`;
      return {
        store: fresh({ applicationName: app, retry: { attempts: 5, baseDelayMs: 20, maxDelayMs: 200 } }, table),
        other: fresh({ listen: false }, table),
      };
    },
    kill: async () => {
      const killed = await withAdmin(async (c) => {
        const r = await c.query('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [app]);
        return r.rows.length;
      });
      expect(killed).toBeGreaterThanOrEqual(2); // at least the pool connection and the LISTEN one
    },
    afterReconnect: async (s) => {
      expect(await eventually(() => s.stats.listenerLost >= 1)).toBe(true);
    },
  });

  storeUrlOutageTest({
    url: PG_URL,
    defaultPort: 5432,
    open: (url) => {
      const [through, direct] = fresh.sharing({ connectionString: url, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 } }, { listen: false });
      return { through, direct };
    },
  });
});
