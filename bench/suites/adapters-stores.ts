// adapters.postgres_cas / adapters.redis_cas: compareAndSet increments per second (each one a
//   getEntry + compareAndSet round trip pair), 8 concurrent writers on 8 distinct keys, against
//   the local servers (PostgreSQL 127.0.0.1:5432 db `test`, Redis 127.0.0.1:6379).
// adapters.postgres_claims / adapters.redis_claims: TaskManager claims per second, 8 concurrent
//   claimers (each its own TaskManager) walking the same pre-submitted tasks; checks that every
//   task was claimed exactly once.
// adapters.postgres_cas_no_notify: the CAS figure with `notify: false` (ratio to postgres_cas =
//   the cost of the per-write NOTIFY).
// Each run uses its own table / key prefix and removes it afterwards. A server that is not
// reachable makes its figures fail the suite (with the reason), never silently vanish.
import { randomBytes } from 'node:crypto';
import { ConflictError, type Store } from '@converge/core';
import { TaskManager } from '@converge/coordination';
import { PostgresStore } from '@converge/store-postgres';
import { globEscape, RedisStore } from '@converge/store-redis';
import pg from 'pg';
import { createClient } from 'redis';
import type { BenchContext } from '../harness.js';

const PG_URL = process.env.CONVERGE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.CONVERGE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WRITERS = 8;

/** 8 writers, each incrementing its own key for `ms`; returns increments/s, checked against the stored counts. */
async function casRate(store: Store, ms: number): Promise<number> {
  const counts = new Array<number>(WRITERS).fill(0);
  let stop = false;
  const t0 = process.hrtime.bigint();
  const timer = setTimeout(() => (stop = true), ms);
  await Promise.all(
    counts.map(async (_, w) => {
      const key = `cas:${w}`;
      while (!stop) {
        const e = await store.getEntry<number>(key);
        const r = await store.compareAndSet(key, (e?.value ?? 0) + 1, e?.revision ?? 0);
        if (r === null) throw new Error(`uncontended compareAndSet on ${key} conflicted`);
        counts[w]!++;
      }
    }),
  );
  clearTimeout(timer);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  for (let w = 0; w < WRITERS; w++) {
    const v = await store.get<number>(`cas:${w}`);
    if (v !== counts[w]) throw new Error(`cas:${w} holds ${v}, expected ${counts[w]}`);
  }
  return counts.reduce((a, b) => a + b, 0) / s;
}

/** 8 claimers over `n` pre-submitted tasks; returns claims/s after checking exactly-once. */
async function claimRate(store: Store, n: number): Promise<{ rate: number; lost: number }> {
  const submitter = new TaskManager({ store });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await submitter.submit({ id: `t${i}`, objective: 'bench', inputs: { i } })).id);
  submitter.stop();
  const managers = Array.from({ length: WRITERS }, () => new TaskManager({ store }));
  const won: string[][] = managers.map(() => []);
  let lost = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    managers.map(async (tm, w) => {
      // Each claimer starts at a different offset, as independent workers would.
      for (let j = 0; j < n; j++) {
        const id = ids[(j + Math.floor((w * n) / WRITERS)) % n]!;
        try {
          await tm.claim(`agent${w}`, id);
          won[w]!.push(id);
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          lost++;
        }
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const tm of managers) tm.stop();
  const all = won.flat();
  if (all.length !== n || new Set(all).size !== n) throw new Error(`exactly-once violated: ${all.length} claims, ${new Set(all).size} distinct, ${n} tasks`);
  for (const [w, list] of won.entries()) {
    for (const id of list.slice(0, 50)) {
      const rec = await submitter.getTask(id);
      if (rec?.assignedTo !== `agent${w}`) throw new Error(`task ${id} is assigned to ${rec?.assignedTo}, but agent${w} won it`);
    }
  }
  return { rate: n / s, lost };
}

async function run(ctx: BenchContext, label: 'postgres' | 'redis', make: (tag: string) => Store, cleanup: (s: Store) => Promise<void>): Promise<void> {
  const ms = Math.max(500, Math.round(2000 * ctx.scale));
  const n = Math.max(100, Math.round(1000 * ctx.scale));
  for (const [what, body] of [
    ['cas', async (store: Store) => ctx.report({ name: `adapters.${label}_cas`, value: await casRate(store, ms), unit: 'increments/s' })],
    [
      'claims',
      async (store: Store) => {
        const { rate, lost } = await claimRate(store, n);
        ctx.log(`${label}: ${n} tasks, 8 claimers, ${lost} lost races`);
        ctx.report({ name: `adapters.${label}_claims`, value: rate, unit: 'claims/s' });
      },
    ],
  ] as const) {
    const store = make(what);
    try {
      await store.start?.();
      await body(store);
    } finally {
      await cleanup(store);
    }
  }
}

async function dropPostgres(s: Store): Promise<void> {
  const table = (s as PostgresStore).table;
  await s.stop?.();
  const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
  try {
    await pool.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(table)}; DROP SEQUENCE IF EXISTS ${pg.escapeIdentifier(`${table}_revision_seq`)}`);
  } finally {
    await pool.end();
  }
}

export default async function adapterStoresBench(ctx: BenchContext): Promise<void> {
  const id = randomBytes(4).toString('hex');
  await run(ctx, 'postgres', (tag) => new PostgresStore({ connectionString: PG_URL, table: `bench_${tag}_${id}`, maxConnections: WRITERS }), dropPostgres);
  // The same CAS loop with `notify: false`: what the per-write NOTIFY costs (it serializes commits).
  const quiet = new PostgresStore({ connectionString: PG_URL, table: `bench_quiet_${id}`, maxConnections: WRITERS, notify: false, listen: false });
  try {
    await quiet.start();
    const ms = Math.max(500, Math.round(2000 * ctx.scale));
    ctx.report({ name: 'adapters.postgres_cas_no_notify', value: await casRate(quiet, ms), unit: 'increments/s', baseline: 'adapters.postgres_cas' });
  } finally {
    await dropPostgres(quiet);
  }
  await run(
    ctx,
    'redis',
    (tag) => new RedisStore({ url: REDIS_URL, prefix: `bench:${tag}:${id}:` }),
    async (s) => {
      const prefix = (s as RedisStore).prefix;
      await s.stop?.();
      const c = createClient({ url: REDIS_URL });
      c.on('error', () => undefined);
      await c.connect();
      try {
        const keys: string[] = [];
        for await (const batch of c.scanIterator({ MATCH: `${globEscape(prefix)}*`, COUNT: 1000 })) keys.push(...batch);
        for (let i = 0; i < keys.length; i += 1000) await c.del(keys.slice(i, i + 1000));
      } finally {
        c.destroy();
      }
    },
  );
}
