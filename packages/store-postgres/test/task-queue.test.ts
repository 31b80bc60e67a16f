import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { taskQueueComplianceTests } from '@converge/compliance/task-queue';
import { ConfigError, ConflictError } from '@converge/core';
import { PostgresTaskQueue } from '@converge/store-postgres/task-queue';
import { PG_URL, requirePostgres, uniqueTable, withAdmin } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/task-queue.child.ts', import.meta.url));

beforeAll(requirePostgres);

taskQueueComplianceTests({
  name: 'PostgresTaskQueue',
  setup: async ({ clock, defaults }) => {
    const table = uniqueTable('q');
    return {
      open: async () => new PostgresTaskQueue({ connectionString: PG_URL, table, clock, defaults, maxConnections: 2, pollMs: 50 }),
      teardown: () => withAdmin(async (c) => void (await c.query(`DROP TABLE IF EXISTS "${table}"`))),
      child: { module: CHILD, options: { url: PG_URL, table, defaults } },
    };
  },
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

  it("with notify: 'wake-ups' a waiting claim is still woken, and watch hears only tasks entering pending", async () => {
    const table = uniqueTable('q');
    const q = new PostgresTaskQueue({ connectionString: PG_URL, table, notify: 'wake-ups', pollMs: 60_000 });
    await q.start();
    const ac = new AbortController();
    try {
      const seen: string[] = [];
      const reading = (async () => {
        for await (const e of q.watch({ signal: ac.signal })) seen.push(`${e.taskId}:${e.state}`);
      })();
      const waiting = q.claim({ agentId: 'a', poolId: 'p', waitMs: 20_000 });
      await new Promise((r) => setTimeout(r, 50));
      await q.submit({ id: 'w1', objective: 'o', poolId: 'p' });
      const [c] = await waiting;
      expect(c!.task.id).toBe('w1');
      await q.report(c!.lease, 1);
      await q.submit({ id: 'w2', objective: 'o', poolId: 'p' });
      for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      ac.abort();
      await reading;
      expect(seen).toEqual(['w1:pending', 'w2:pending']);
    } finally {
      await q.drop();
      await q.stop();
    }
  });

  it('a NOTIFY on the events channel that is not an event is ignored and counted; watch goes on', async () => {
    const table = uniqueTable('q');
    const q = new PostgresTaskQueue({ connectionString: PG_URL, table });
    await q.start();
    const ac = new AbortController();
    try {
      const seen: string[] = [];
      const reading = (async () => {
        for await (const e of q.watch({ signal: ac.signal })) {
          seen.push(`${e.taskId}:${e.state}`);
          ac.abort();
        }
      })();
      await withAdmin(async (c) => {
        for (const junk of ['not json', '["pending", 1, "p"]', '{"a":1}']) await c.query('SELECT pg_notify($1, $2)', [`${table}_events`, junk]);
      });
      await q.submit({ id: 'ok', objective: 'o', poolId: 'p' });
      await reading;
      expect(seen).toEqual(['ok:pending']);
      expect(q.stats.badEvents).toBe(3);
    } finally {
      ac.abort();
      await q.drop();
      await q.stop();
    }
  });
});
