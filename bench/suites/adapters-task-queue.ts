// adapters.postgres_claim_report: PostgresTaskQueue claim + report cycles per second, 4 workers
//   sharing one queue (a pool of 4 connections), against the local server (127.0.0.1:5432 db `test`).
// adapters.postgres_claim_report_wake_only: the same with `notify: 'wake-ups'` (no NOTIFY on claim/report).
// raw.postgres_skip_locked: its baseline (`rawSkipLocked` of the cli, the loop `converge bench` runs): a bare `FOR UPDATE SKIP LOCKED` claim
//   UPDATE + a completing UPDATE per task, same 4 workers, same pool size, same commit settings.
// Both run on a fresh table that is dropped afterwards.
import { PostgresTaskQueue } from '@converge/store-postgres/task-queue';
import { rawSkipLocked } from '@converge/cli';
import { QUEUE_WORKERS, queueSuite } from '../harness.js';

const PG_URL = process.env.CONVERGE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The suite. */
export default queueSuite({
  raw: { name: 'raw.postgres_skip_locked', run: (tasks, ms) => rawSkipLocked(PG_URL, tasks, ms) },
  adapter: {
    name: 'adapters.postgres_claim_report',
    make: (notify, id) =>
      new PostgresTaskQueue({
        notify,
        connectionString: PG_URL,
        table: `cvb_tq_${id}`,
        maxConnections: QUEUE_WORKERS,
        defaults: { leaseMs: 30_000 },
      }),
  },
  tasks: 30_000,
});
