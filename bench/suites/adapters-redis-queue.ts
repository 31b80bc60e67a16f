// adapters.redis_claim_report: RedisTaskQueue claim + report cycles per second, 4 workers
//   sharing one queue (its one command connection), against the local server (127.0.0.1:6379).
// adapters.redis_claim_report_wake_only: the same with `notify: 'wake-ups'` (no PUBLISH on claim/report).
// raw.redis_lua_cas: its baseline, written here: a bare Lua check-and-set loop on the same kind
//   of client (one node-redis connection, 4 workers): a claim script pops an id and flips its
//   hash pending -> assigned (attempt + 1), a completing script flips assigned -> completed if
//   the attempt still matches; two EVALSHA per task, as claim + report are.
// Each runs under a fresh key prefix that is deleted afterwards.
import { createHash, randomBytes } from 'node:crypto';
import { RedisTaskQueue } from '@converge/store-redis/task-queue';
import { createClient } from 'redis';
import { cyclesPerSecond, runQueueSuite, type BenchContext } from '../harness.js';

const REDIS_URL = process.env.CONVERGE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

type Client = ReturnType<typeof createClient>;

async function dropPrefix(c: Client, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const r = await c.scan(cursor, { MATCH: `${prefix}*`, COUNT: 1000 });
    cursor = String(r.cursor);
    if (r.keys.length > 0) await c.unlink(r.keys);
  } while (cursor !== '0');
}

// KEYS[1] ready list, ARGV[1] hash prefix, ARGV[2] owner, ARGV[3] lease expiry.
const RAW_CLAIM = `
local id = redis.call('LPOP', KEYS[1])
if not id then return false end
local k = ARGV[1] .. id
if redis.call('HGET', k, 'state') ~= 'pending' then return false end
local a = redis.call('HINCRBY', k, 'attempts', 1)
redis.call('HSET', k, 'state', 'assigned', 'owner', ARGV[2], 'lease', ARGV[3])
return {id, a}`;
// KEYS[1] task hash, ARGV[1] attempt.
const RAW_DONE = `
if redis.call('HGET', KEYS[1], 'state') ~= 'assigned' or redis.call('HGET', KEYS[1], 'attempts') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'completed')
redis.call('HDEL', KEYS[1], 'lease')
return 1`;

async function evalsha(c: Client, source: string, sha: string, keys: string[], args: string[]): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await c.sendCommand(['EVALSHA', sha, ...tail]);
  } catch {
    return c.sendCommand(['EVAL', source, ...tail]);
  }
}

async function rawLuaCas(tasks: number, ms: number): Promise<number> {
  const prefix = `cvb:rawq:${randomBytes(4).toString('hex')}:`;
  const c = createClient({ url: REDIS_URL });
  c.on('error', () => undefined);
  await c.connect();
  const claimSha = createHash('sha1').update(RAW_CLAIM).digest('hex');
  const doneSha = createHash('sha1').update(RAW_DONE).digest('hex');
  try {
    for (let i = 0; i < tasks; i += 1000) {
      const m = c.multi();
      for (let j = i; j < Math.min(tasks, i + 1000); j++) {
        m.hSet(`${prefix}t:${j}`, { state: 'pending', attempts: '0', body: 'x' });
        m.rPush(`${prefix}ready`, String(j));
      }
      await m.exec();
    }
    return await cyclesPerSecond(ms, async () => {
      const got = (await evalsha(c, RAW_CLAIM, claimSha, [`${prefix}ready`], [`${prefix}t:`, 'w', String(Date.now() + 30_000)])) as [string, number] | null;
      if (!got) return false;
      await evalsha(c, RAW_DONE, doneSha, [`${prefix}t:${got[0]}`], [String(got[1])]);
      return true;
    });
  } finally {
    await dropPrefix(c, prefix).catch(() => undefined);
    c.destroy();
  }
}

/** The suite. */
export default async function redisQueueAdapters(ctx: BenchContext): Promise<void> {
  await runQueueSuite(ctx, {
    raw: { name: 'raw.redis_lua_cas', run: rawLuaCas },
    adapter: {
      name: 'adapters.redis_claim_report',
      make: (notify) => new RedisTaskQueue({ url: REDIS_URL, notify, prefix: `cvb:tq:${randomBytes(4).toString('hex')}:`, defaults: { leaseMs: 30_000 } }),
    },
    tasks: 60_000,
  });
}
