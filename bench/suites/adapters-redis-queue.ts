// adapters.redis_claim_report: RedisTaskQueue claim + report cycles per second, 4 workers
//   sharing one queue (its one command connection), against the local server (127.0.0.1:6379).
// adapters.redis_claim_report_wake_only: the same with `notify: 'wake-ups'` (no PUBLISH on claim/report).
// raw.redis_lua_cas: its baseline (`rawLuaCas` of the cli, the loop `converge bench` runs): a bare Lua check-and-set loop on the same kind
//   of client (one node-redis connection, 4 workers): a claim script pops an id and flips its
//   hash pending -> assigned (attempt + 1), a completing script flips assigned -> completed if
//   the attempt still matches; two EVALSHA per task, as claim + report are.
// Each runs under a fresh key prefix that is deleted afterwards.
import { rawLuaCas } from '@converge/cli';
import { RedisTaskQueue } from '@converge/store-redis/task-queue';
import { queueSuite } from '../harness.js';

const REDIS_URL = process.env.CONVERGE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The suite. */
export default queueSuite({
  raw: { name: 'raw.redis_lua_cas', run: (tasks, ms) => rawLuaCas(REDIS_URL, tasks, ms) },
  adapter: {
    name: 'adapters.redis_claim_report',
    make: (notify, id) => new RedisTaskQueue({ url: REDIS_URL, notify, prefix: `cvb:tq:${id}:`, defaults: { leaseMs: 30_000 } }),
  },
  tasks: 60_000,
});
