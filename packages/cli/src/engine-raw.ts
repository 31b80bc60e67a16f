// The bare-engine baselines of `converge bench`, the same loops as the repository's benchmarks:
// PostgreSQL — a `FOR UPDATE SKIP LOCKED` claim UPDATE and a completing UPDATE per task on a
// scratch table; Redis — a claim script (pop an id, flip its hash pending → assigned) and a
// completing check-and-set script per task (two EVALSHA, as claim + report are). Fresh names,
// dropped afterwards. The drivers (pg, redis) come with the adapter packages.
import { createHash, randomBytes } from 'node:crypto';
import { importAdapter } from './stack.js';
import { QUEUE_WORKERS, cyclesPerSecond } from './engine-bench.js';

/** Claim + complete cycles per second of a bare SKIP LOCKED loop, `QUEUE_WORKERS` connections. */
export async function rawSkipLocked(url: string, tasks: number, ms: number): Promise<number> {
  const pg = (await importAdapter<typeof import('pg')>('pg', 'store')).default;
  const table = `cvb_raw_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: QUEUE_WORKERS });
  try {
    await pool.query(
      `CREATE TABLE ${table} (id bigserial PRIMARY KEY, state text NOT NULL, attempts int NOT NULL DEFAULT 0, owner text, lease bigint, body bytea)`,
    );
    await pool.query(`CREATE INDEX ON ${table} (id) WHERE state = 'pending'`);
    await pool.query(`INSERT INTO ${table} (state, body) SELECT 'pending', '\\x01'::bytea FROM generate_series(1, $1)`, [tasks]);
    const claim = `UPDATE ${table} t SET state = 'assigned', attempts = t.attempts + 1, owner = $1, lease = $2 FROM (SELECT id FROM ${table} WHERE state = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) c WHERE t.id = c.id RETURNING t.id, t.attempts, t.body`;
    const done = `UPDATE ${table} SET state = 'completed', lease = NULL WHERE id = $1 AND attempts = $2 AND state = 'assigned'`;
    return await cyclesPerSecond(ms, async () => {
      const { rows } = await pool.query<{ id: string; attempts: number }>(claim, ['w', Date.now() + 30_000]);
      if (rows.length === 0) return false;
      await pool.query(done, [rows[0].id, rows[0].attempts]);
      return true;
    });
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await pool.end();
  }
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

/** Claim + complete cycles per second of a bare Lua check-and-set loop, one connection, `QUEUE_WORKERS` loops. */
export async function rawLuaCas(url: string, tasks: number, ms: number): Promise<number> {
  const { createClient } = await importAdapter<typeof import('redis')>('redis', 'store');
  const prefix = `cvb:rawq:${randomBytes(4).toString('hex')}:`;
  const c = createClient({ url });
  c.on('error', () => undefined);
  await c.connect();
  const sha = (s: string) => createHash('sha1').update(s).digest('hex');
  const evalsha = async (source: string, keys: string[], args: string[]): Promise<unknown> => {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await c.sendCommand(['EVALSHA', sha(source), ...tail]);
    } catch {
      return c.sendCommand(['EVAL', source, ...tail]);
    }
  };
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
      const got = (await evalsha(RAW_CLAIM, [`${prefix}ready`], [`${prefix}t:`, 'w', String(Date.now() + 30_000)])) as [string, number] | null;
      if (!got) return false;
      await evalsha(RAW_DONE, [`${prefix}t:${got[0]}`], [String(got[1])]);
      return true;
    });
  } finally {
    for (let cursor = '0'; ;) {
      const r = await c.scan(cursor, { MATCH: `${prefix}*`, COUNT: 1000 }).catch(() => ({ cursor: '0', keys: [] as string[] }));
      if (r.keys.length > 0) await c.unlink(r.keys).catch(() => undefined);
      cursor = String(r.cursor);
      if (cursor === '0') break;
    }
    c.destroy();
  }
}
