// adapters.postgres_claim_report: PostgresTaskQueue claim + report cycles per second, 4 workers
//   sharing one queue (a pool of 4 connections), against the local server (127.0.0.1:5432 db `test`).
// adapters.postgres_claim_report_wake_only: the same with `notify: 'wake-ups'` (no NOTIFY on claim/report).
// raw.postgres_skip_locked: its baseline, written here: a bare `FOR UPDATE SKIP LOCKED` claim
//   UPDATE + a completing UPDATE per task, same 4 workers, same pool size, same commit settings.
// Both run on a fresh table that is dropped afterwards.
import { randomBytes } from 'node:crypto';
import { PostgresTaskQueue } from '@converge/store-postgres/task-queue';
import pg from 'pg';
import { cyclesPerSecond, QUEUE_WORKERS, runQueueSuite, type BenchContext } from '../harness.js';

const PG_URL = process.env.CONVERGE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function rawSkipLocked(tasks: number, ms: number): Promise<number> {
  const table = `cvb_raw_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: PG_URL, max: QUEUE_WORKERS });
  try {
    await pool.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, state text NOT NULL, attempts int NOT NULL DEFAULT 0, owner text, lease bigint, body bytea)`);
    await pool.query(`CREATE INDEX ON ${table} (id) WHERE state = 'pending'`);
    await pool.query(`INSERT INTO ${table} (state, body) SELECT 'pending', '\\x01'::bytea FROM generate_series(1, $1)`, [tasks]);
    const claim = `UPDATE ${table} t SET state = 'assigned', attempts = t.attempts + 1, owner = $1, lease = $2 FROM (SELECT id FROM ${table} WHERE state = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) c WHERE t.id = c.id RETURNING t.id, t.attempts, t.body`;
    const done = `UPDATE ${table} SET state = 'completed', lease = NULL WHERE id = $1 AND attempts = $2 AND state = 'assigned'`;
    return await cyclesPerSecond(ms, async () => {
      const { rows } = await pool.query(claim, ['w', Date.now() + 30_000]);
      if (rows.length === 0) return false;
      await pool.query(done, [rows[0].id, rows[0].attempts]);
      return true;
    });
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await pool.end();
  }
}

/** The suite. */
export default async function taskQueueAdapters(ctx: BenchContext): Promise<void> {
  await runQueueSuite(ctx, {
    raw: { name: 'raw.postgres_skip_locked', run: rawSkipLocked },
    adapter: {
      name: 'adapters.postgres_claim_report',
      make: (notify) => new PostgresTaskQueue({ notify, connectionString: PG_URL, table: `cvb_tq_${randomBytes(4).toString('hex')}`, maxConnections: QUEUE_WORKERS, defaults: { leaseMs: 30_000 } }),
    },
    tasks: 30_000,
  });
}
