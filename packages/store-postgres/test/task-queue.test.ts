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
      openWakeUpsOnly: async () =>
        new PostgresTaskQueue({ connectionString: PG_URL, table, clock, defaults, maxConnections: 2, notify: 'wake-ups', pollMs: 60_000 }),
      feed: {
        publish: (payload) => withAdmin(async (c) => void (await c.query('SELECT pg_notify($1, $2)', [`${table}_events`, payload]))),
        badEvents: (q) => (q as PostgresTaskQueue).stats.badEvents,
      },
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
});
