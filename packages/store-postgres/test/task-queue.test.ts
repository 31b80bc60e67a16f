import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { serverTaskQueueTests } from '@converge/compliance/task-queue';
import { ConfigError, ConflictError, NotFoundError } from '@converge/core';
import { PostgresTaskQueue } from '@converge/store-postgres/task-queue';
import { PG_URL, requirePostgres, uniqueTable, withAdmin } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/task-queue.child.ts', import.meta.url));

beforeAll(requirePostgres);

serverTaskQueueTests({
  name: 'PostgresTaskQueue',
  unique: () => uniqueTable('q'),
  open: (table, options) => new PostgresTaskQueue({ connectionString: PG_URL, table, maxConnections: 2, ...options }),
  drop: (table) => withAdmin(async (c) => void (await c.query(`DROP TABLE IF EXISTS "${table}"`))),
  child: (table, defaults) => ({ module: CHILD, options: { url: PG_URL, table, defaults } }),
  publish: (table, payload) => withAdmin(async (c) => void (await c.query('SELECT pg_notify($1, $2)', [`${table}_events`, payload]))),
});

describe('PostgresTaskQueue', () => {
  it('refuses a table name that is not a plain identifier', () => {
    expect(() => new PostgresTaskQueue({ connectionString: PG_URL, table: 'x; DROP TABLE y' })).toThrow(ConfigError);
  });

  it('claims a batch in one statement and fences report in one statement (a stale attempt changes no row)', async () => {
    const table = uniqueTable('q');
    const q = new PostgresTaskQueue({ connectionString: PG_URL, table, defaults: { leaseMs: 60_000 } });
    await q.start();
    try {
      for (let i = 0; i < 5; i++) await q.submit({ id: `b${i}`, objective: 'o', poolId: 'p' });
      const got = await q.claim({ agentId: 'a', poolId: 'p', max: 5 });
      expect(got.map((c) => c.task.id)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
      await expect(q.report({ ...got[0]!.lease, attempt: 2 }, 'x')).rejects.toBeInstanceOf(ConflictError);
      const row = await withAdmin((c) => c.query(`SELECT state, result FROM "${table}" WHERE id = 'b0'`));
      expect(row.rows[0]).toEqual({ state: 'assigned', result: null });
    } finally {
      await q.drop();
      await q.stop();
    }
  });

  it('coalesces concurrent submits, reports and gets into batches that decide each call as alone', async () => {
    const table = uniqueTable('q');
    // One connection: the first call of each burst goes alone, the others wait and go as one batch.
    const q = new PostgresTaskQueue({ connectionString: PG_URL, table, defaults: { leaseMs: 60_000 }, maxConnections: 1 });
    await q.start();
    try {
      // One batch: fresh ids in order, a repeated id (conflict), a repeated idempotency key (the first task).
      const submits = await Promise.allSettled([
        ...Array.from({ length: 20 }, (_, i) => q.submit({ id: `s${String(i).padStart(2, '0')}`, objective: 'o', poolId: 'p' })),
        q.submit({ id: 's00', objective: 'again', poolId: 'p' }),
        q.submit({ id: 'k1', objective: 'first', poolId: 'p' }, { idempotencyKey: 'key' }),
        q.submit({ id: 'k2', objective: 'second', poolId: 'p' }, { idempotencyKey: 'key' }),
      ]);
      expect(submits.slice(0, 20).every((r) => r.status === 'fulfilled')).toBe(true);
      expect((submits[20] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      expect((submits[22] as PromiseFulfilledResult<{ id: string }>).value.id).toBe('k1');
      const got = await q.claim({ agentId: 'a', poolId: 'p', max: 30 });
      expect(got.map((c) => c.task.id).slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `s${String(i).padStart(2, '0')}`));
      // One batch of reports: valid leases, a stale attempt (refused), the same lease twice (one completes).
      const [first, ...rest] = got;
      const reports = await Promise.allSettled([
        ...rest.map((c) => q.report(c.lease, c.task.id)),
        q.report({ ...first!.lease, attempt: 9 }, 'stale'),
        q.report(first!.lease, 'one'),
        q.report(first!.lease, 'two'),
      ]);
      expect(reports.slice(0, rest.length).every((r) => r.status === 'fulfilled')).toBe(true);
      expect(reports.slice(rest.length).map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
      const read = await Promise.allSettled([...got.map((c) => q.get(c.task.id)), q.get('missing')]);
      expect(read.slice(0, got.length).map((r) => (r as PromiseFulfilledResult<{ state: string }>).value.state)).toEqual(got.map(() => 'completed'));
      expect((read.at(-1) as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
      expect((await q.get(first!.task.id)).result).toBe('one');
      expect((await q.get('s05')).result).toBe('s05');
    } finally {
      await q.drop();
      await q.stop();
    }
  });

  it('runs a batch holding a bad value call by call: only that call fails', async () => {
    const table = uniqueTable('q');
    const q = new PostgresTaskQueue({ connectionString: PG_URL, table, maxConnections: 1 });
    await q.start();
    try {
      const out = await Promise.allSettled([
        q.submit({ id: 'ok0', objective: 'o', poolId: 'p' }),
        q.submit({ id: 'ok1', objective: 'o', poolId: 'p' }),
        q.submit({ id: 'bad\u0000id', objective: 'o', poolId: 'p' }),
        q.submit({ id: 'ok2', objective: 'o', poolId: 'p' }),
      ]);
      expect(out.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((await q.list({ poolId: 'p' })).tasks.map((t) => t.id)).toEqual(['ok0', 'ok1', 'ok2']);
    } finally {
      await q.drop();
      await q.stop();
    }
  });

  it("with notify 'outcomes' announces tasks entering pending and reaching a terminal state, not claims", async () => {
    const table = uniqueTable('q');
    const q = new PostgresTaskQueue({ connectionString: PG_URL, table, notify: 'outcomes' });
    await q.start();
    try {
      const seen: string[] = [];
      const stop = new AbortController();
      const watching = (async () => {
        for await (const e of q.watch({ poolId: 'p', signal: stop.signal })) {
          seen.push(`${e.taskId}:${e.state}`);
          if (e.state === 'cancelled') break;
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      await q.submit({ id: 'o1', objective: 'o', poolId: 'p' });
      const [c] = await q.claim({ agentId: 'a', poolId: 'p' });
      await q.report(c!.lease, 1);
      await q.submit({ id: 'o2', objective: 'o', poolId: 'p' });
      await q.cancel('o2');
      await Promise.race([watching, new Promise((r) => setTimeout(r, 5_000))]);
      stop.abort();
      expect(seen).toEqual(['o1:pending', 'o1:completed', 'o2:pending', 'o2:cancelled']);
    } finally {
      await q.drop();
      await q.stop();
    }
  });
});
