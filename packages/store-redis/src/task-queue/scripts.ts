// The Lua scripts of a RedisTaskQueue: one script (one EVALSHA, one round trip) per transition.
// Redis runs a script with nothing else in between, so every transition is atomic across all
// clients, and the claim's pick-and-lease can never hand one task to two claimers.
//
// Key layout under the queue's prefix P (every key is built inside the scripts from P, so on a
// Redis Cluster the prefix must carry a {hash tag} that puts them all in one slot):
//   P t:<id>     hash: the task (fields below)
//   P r:<pool>   sorted set, pending tasks of the pool by due time; member = 16-digit seq .. id
//                (equal due times then come out in submit order)
//   P l:<pool>   sorted set, claimed tasks of the pool by lease expiry; member = id
//   P d          sorted set, live tasks with a deadline, by deadline; member = id
//   P pools      set of every pool seen (the expire sweep walks their lease sets)
//   P ids        sorted set of every task id, all score 0 (lexicographic order for `list`)
//   P idem       hash, idempotency key -> id of the task first submitted with it
//   P seq        counter of submit order
//   P events     pub/sub channel: one JSON `[state, attempt, pool, id]` per transition
// Task hash fields: id pool state caps(JSON array) attempts failures max_retries lease_ms seq due
// submitted_at updated_at dead_lettered(0/1) body (codec bytes) and, when set, assigned_to
// claimed_at lease_expires_at not_before deadline failure_reason result (codec bytes) idem.
//
// Every script: ARGV[1] = P, ARGV[2] = '1' to publish every transition ('0': only tasks entering
// pending, the claimers' wake-ups; '2': those and tasks reaching a terminal state), ARGV[3] = now (Unix ms, the client's clock), then its own.
// KEYS carry the key the call is about, so a cluster-aware proxy can route it.
import { createHash } from 'node:crypto';

/** A script and its SHA-1 (for EVALSHA). */
export interface QueueScript {
  name: string;
  source: string;
  sha: string;
}

const PRELUDE = `
local P = ARGV[1]
local NOW = tonumber(ARGV[3])
local function num(n) return string.format('%d', n) end
local function member(seq, id) return string.format('%016d', tonumber(seq)) .. id end
local function live(state) return state == 'pending' or state == 'assigned' or state == 'running' end
local function publish(state, attempts, pool, id)
  if ARGV[2] == '1' or state == 'pending' or (ARGV[2] == '2' and not live(state)) then
    redis.call('PUBLISH', P .. 'events', cjson.encode({state, tonumber(attempts), pool, id}))
  end
end
`;

/**
 * The fence of report/fail/extend: f = HMGET state attempts assigned_to lease_expires_at
 * deadline; the lease's attempt and agent, and the call's clock reading.
 */
const FENCE = `
local function fenced(f, attempt, agent, now)
  if f[1] ~= 'assigned' and f[1] ~= 'running' then return false end
  if tonumber(f[2]) ~= tonumber(attempt) or f[3] ~= agent then return false end
  if not f[4] or tonumber(f[4]) <= now then return false end
  if f[5] and tonumber(f[5]) <= now then return false end
  return true
end
`;

function script(name: string, body: string, fence = false): QueueScript {
  const source = PRELUDE + (fence ? FENCE : '') + body;
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Fields of one task in a `SUBMIT` call, in order. */
export const SUBMIT_FIELDS = 9;

/**
 * Submit, one task or several (calls made together, see `coalesce.ts`). ARGV[4] the number of
 * tasks n, then `SUBMIT_FIELDS` per task: id, pool, caps JSON, max_retries, lease_ms, deadline
 * or '', idempotency key or '', body, now (the call's clock reading). Each task is submitted as
 * if alone, in order. Returns one reply per task: {1} (created: the client knows the record it
 * sent), {2, record} (the key's first task) or {0, state} (the id is taken).
 */
export const SUBMIT = script(
  'submit',
  `
local function submit(id, pool, caps, maxRetries, leaseMs, deadline, idem, body, now)
  if idem ~= '' then
    local first = redis.call('HGET', P .. 'idem', idem)
    if first and redis.call('EXISTS', P .. 't:' .. first) == 1 then return {2, redis.call('HGETALL', P .. 't:' .. first)} end
  end
  local k = P .. 't:' .. id
  if redis.call('EXISTS', k) == 1 then return {0, redis.call('HGET', k, 'state') or ''} end
  local seq = redis.call('INCR', P .. 'seq')
  redis.call('HSET', k, 'id', id, 'pool', pool, 'state', 'pending', 'caps', caps, 'attempts', '0', 'failures', '0',
    'max_retries', maxRetries, 'lease_ms', leaseMs, 'seq', num(seq), 'due', now, 'submitted_at', now, 'updated_at', now,
    'dead_lettered', '0', 'body', body)
  if deadline ~= '' then
    redis.call('HSET', k, 'deadline', deadline)
    redis.call('ZADD', P .. 'd', deadline, id)
  end
  if idem ~= '' then
    redis.call('HSET', P .. 'idem', idem, id)
    redis.call('HSET', k, 'idem', idem)
  end
  redis.call('ZADD', P .. 'r:' .. pool, now, member(seq, id))
  redis.call('ZADD', P .. 'ids', 0, id)
  redis.call('SADD', P .. 'pools', pool)
  publish('pending', 0, pool, id)
  return {1}
end
local out = {}
for i = 0, tonumber(ARGV[4]) - 1 do
  local a = 5 + i * ${SUBMIT_FIELDS}
  out[#out + 1] = submit(ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8])
end
return out
`,
);

/**
 * Claim. ARGV[4] pool, [5] agent, [6] max, [7] most ready entries to look at, [8..] the agent's
 * capabilities. Walks the pool's due entries oldest first, skipping those whose capabilities
 * the agent lacks or whose deadline passed (they stay for others and for the sweep), and leases
 * up to max. Returns {rows, next due time or '', orphans}: a row per leased task (`CLAIM_ROW`
 * of records.ts: the fields the client cannot know, no second read of the hash); the next due time (of a task not
 * yet due, or '' for none) lets a waiting claimer sleep until then; orphans counts ready
 * entries without a task hash, removed (a corrupt or hand-edited database).
 */
export const CLAIM = script(
  'claim',
  `
local pool, agent, max, scan = ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local have = {}
for i = 8, #ARGV do have[ARGV[i]] = true end
local rkey, lkey = P .. 'r:' .. pool, P .. 'l:' .. pool
local out, seen, skipped, orphans = {}, 0, 0, 0
while #out < max and seen < scan do
  -- Only as many entries as are wanted until one is stepped over, then 16 more at a time.
  local batch = redis.call('ZRANGEBYSCORE', rkey, '-inf', ARGV[3], 'LIMIT', skipped, math.min(scan - seen, max - #out + (skipped > 0 and 16 or 0)))
  if #batch == 0 then break end
  for _, m in ipairs(batch) do
    seen = seen + 1
    local id = string.sub(m, 17)
    local k = P .. 't:' .. id
    local f = redis.call('HMGET', k, 'caps', 'deadline', 'lease_ms', 'attempts', 'state', 'id', 'failures', 'submitted_at', 'body', 'failure_reason', 'not_before')
    if f[5] ~= 'pending' then
      redis.call('ZREM', rkey, m)
      orphans = orphans + 1
    else
      local ok = not (f[2] and tonumber(f[2]) <= NOW)
      if ok and f[1] ~= '[]' then
        for _, c in ipairs(cjson.decode(f[1])) do
          if not have[c] then ok = false break end
        end
      end
      if ok then
        redis.call('ZREM', rkey, m)
        local attempts = tonumber(f[4]) + 1
        local exp = num(NOW + tonumber(f[3]))
        redis.call('HSET', k, 'state', 'assigned', 'assigned_to', agent, 'attempts', num(attempts), 'claimed_at', ARGV[3],
          'lease_expires_at', exp, 'updated_at', ARGV[3])
        if f[11] then redis.call('HDEL', k, 'not_before') end
        redis.call('ZADD', lkey, exp, id)
        publish('assigned', attempts, pool, id)
        -- CLAIM_ROW of records.ts: the fields read above, with what this claim wrote.
        out[#out + 1] = {f[6], num(attempts), exp, f[9], f[1], f[7], f[8], f[2], f[10]}
        if #out >= max then break end
      else
        skipped = skipped + 1
      end
    end
  end
end
local nextDue = ''
if #out == 0 then
  local later = redis.call('ZRANGEBYSCORE', rkey, '(' .. ARGV[3], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #later > 0 then nextDue = later[2] end
end
return {out, nextDue, orphans}
`,
);

/** Fields of one report in a `REPORT` call, in order. */
export const REPORT_FIELDS = 6;

/**
 * Report, one or several (calls made together, see `coalesce.ts`). ARGV[4] the number of
 * reports n, then `REPORT_FIELDS` per report: id, attempt, agent, result, '1' to return the
 * completed record ('0': the caller holds the claimed record and knows what report changes),
 * now (the call's clock reading, which its fence is judged at). Each is fenced and applied as if
 * alone, in order. Returns one reply per report: {1, record or nothing}, {0, record} (fenced
 * off) or {-1} (no task).
 */
export const REPORT = script(
  'report',
  `
local function report(id, attempt, agent, result, want, now)
  local k = P .. 't:' .. id
  local f = redis.call('HMGET', k, 'state', 'attempts', 'assigned_to', 'lease_expires_at', 'deadline', 'pool')
  if not f[1] then return {-1} end
  if not fenced(f, attempt, agent, tonumber(now)) then return {0, redis.call('HGETALL', k)} end
  redis.call('HSET', k, 'state', 'completed', 'result', result, 'updated_at', now)
  redis.call('HDEL', k, 'lease_expires_at')
  redis.call('ZREM', P .. 'l:' .. f[6], id)
  if f[5] then redis.call('ZREM', P .. 'd', id) end
  publish('completed', f[2], f[6], id)
  if want == '0' then return {1} end
  return {1, redis.call('HGETALL', k)}
end
local out = {}
for i = 0, tonumber(ARGV[4]) - 1 do
  local a = 5 + i * ${REPORT_FIELDS}
  out[#out + 1] = report(ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
end
return out
`,
  true,
);

/**
 * Fail. ARGV[4] id, [5] attempt, [6] agent, [7] reason, [8] retry base ms, [9] retry cap ms.
 * Past max_retries → dead letter (state failed); else pending again after base × 2^(failures−1),
 * capped. Returns as REPORT.
 */
export const FAIL = script(
  'fail',
  `
local id = ARGV[4]
local k = P .. 't:' .. id
local f = redis.call('HMGET', k, 'state', 'attempts', 'assigned_to', 'lease_expires_at', 'deadline', 'pool', 'failures', 'max_retries', 'seq')
if not f[1] then return {-1} end
if not fenced(f, ARGV[5], ARGV[6], NOW) then return {0, redis.call('HGETALL', k)} end
local failures = tonumber(f[7]) + 1
local pool = f[6]
redis.call('HSET', k, 'failures', num(failures), 'failure_reason', ARGV[7], 'updated_at', ARGV[3])
redis.call('HDEL', k, 'lease_expires_at')
redis.call('ZREM', P .. 'l:' .. pool, id)
local state
if failures > tonumber(f[8]) then
  state = 'failed'
  redis.call('HSET', k, 'state', state, 'dead_lettered', '1')
  redis.call('HDEL', k, 'not_before')
  if f[5] then redis.call('ZREM', P .. 'd', id) end
else
  state = 'pending'
  local nb = num(NOW + math.min(tonumber(ARGV[9]), tonumber(ARGV[8]) * 2 ^ (failures - 1)))
  redis.call('HSET', k, 'state', state, 'not_before', nb, 'due', nb)
  redis.call('HDEL', k, 'assigned_to', 'claimed_at')
  redis.call('ZADD', P .. 'r:' .. pool, nb, member(f[9], id))
end
publish(state, f[2], pool, id)
return {1, redis.call('HGETALL', k)}
`,
  true,
);

/** Extend. ARGV[4] id, [5] attempt, [6] agent. Returns {1, new expiry}, {0, record} or {-1}. */
export const EXTEND = script(
  'extend',
  `
local id = ARGV[4]
local k = P .. 't:' .. id
local f = redis.call('HMGET', k, 'state', 'attempts', 'assigned_to', 'lease_expires_at', 'deadline', 'pool', 'lease_ms')
if not f[1] then return {-1} end
if not fenced(f, ARGV[5], ARGV[6], NOW) then return {0, redis.call('HGETALL', k)} end
local exp = num(NOW + tonumber(f[7]))
redis.call('HSET', k, 'lease_expires_at', exp, 'updated_at', ARGV[3])
redis.call('ZADD', P .. 'l:' .. f[6], exp, id)
return {1, exp}
`,
  true,
);

/** Cancel. ARGV[4] id. Returns {1, record}, {0, state} (already terminal) or {-1}. */
export const CANCEL = script(
  'cancel',
  `
local id = ARGV[4]
local k = P .. 't:' .. id
local f = redis.call('HMGET', k, 'state', 'attempts', 'pool', 'seq')
if not f[1] then return {-1} end
if not live(f[1]) then return {0, f[1]} end
redis.call('HSET', k, 'state', 'cancelled', 'updated_at', ARGV[3])
redis.call('HDEL', k, 'lease_expires_at')
redis.call('ZREM', P .. 'r:' .. f[3], member(f[4], id))
redis.call('ZREM', P .. 'l:' .. f[3], id)
redis.call('ZREM', P .. 'd', id)
publish('cancelled', f[2], f[3], id)
return {1, redis.call('HGETALL', k)}
`,
);

/**
 * Reclaim (the `expire` sweep). ARGV[4] limit. Expired leases of every pool, then live tasks
 * past their deadline: an expired lease is a failed attempt retried at once (or the dead
 * letter); a deadline fails the task ('deadline'). Returns {{id, agent or '', attempt, outcome}...}.
 */
export const RECLAIM = script(
  'reclaim',
  `
local limit = tonumber(ARGV[4])
local out = {}
local function reclaim(id)
  local k = P .. 't:' .. id
  local f = redis.call('HMGET', k, 'state', 'pool', 'attempts', 'failures', 'max_retries', 'assigned_to', 'deadline', 'seq')
  if not f[1] then
    redis.call('ZREM', P .. 'd', id)
    return
  end
  local pool = f[2]
  local late = f[7] and tonumber(f[7]) <= NOW
  local state, outcome, agent
  if f[1] == 'pending' then
    redis.call('ZREM', P .. 'd', id)
    if not late then return end
    redis.call('ZREM', P .. 'r:' .. pool, member(f[8], id))
    state, outcome, agent = 'failed', 'expired', ''
    redis.call('HSET', k, 'state', state, 'failure_reason', 'deadline', 'updated_at', ARGV[3])
  elseif f[1] == 'assigned' or f[1] == 'running' then
    agent = f[6] or ''
    redis.call('ZREM', P .. 'l:' .. pool, id)
    redis.call('HDEL', k, 'lease_expires_at', 'not_before')
    redis.call('HSET', k, 'updated_at', ARGV[3])
    if late then
      state, outcome = 'failed', 'expired'
      redis.call('HSET', k, 'state', state, 'failure_reason', 'deadline')
      redis.call('ZREM', P .. 'd', id)
    else
      local failures = tonumber(f[4]) + 1
      redis.call('HSET', k, 'failures', num(failures), 'failure_reason', 'lease-expired')
      if failures > tonumber(f[5]) then
        state, outcome = 'failed', 'dead-lettered'
        redis.call('HSET', k, 'state', state, 'dead_lettered', '1')
        redis.call('ZREM', P .. 'd', id)
      else
        state, outcome = 'pending', 'pending'
        redis.call('HSET', k, 'state', state, 'due', ARGV[3])
        redis.call('HDEL', k, 'assigned_to', 'claimed_at')
        redis.call('ZADD', P .. 'r:' .. pool, ARGV[3], member(f[8], id))
      end
    end
  else
    -- a terminal task still indexed (cannot happen through these scripts): unindex it
    redis.call('ZREM', P .. 'l:' .. pool, id)
    redis.call('ZREM', P .. 'd', id)
    return
  end
  publish(state, f[3], pool, id)
  out[#out + 1] = {id, agent, tonumber(f[3]), outcome}
end
for _, pool in ipairs(redis.call('SMEMBERS', P .. 'pools')) do
  if #out >= limit then break end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'l:' .. pool, '-inf', ARGV[3], 'LIMIT', 0, limit - #out)) do reclaim(id) end
end
if #out < limit then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'd', '-inf', ARGV[3], 'LIMIT', 0, limit - #out)) do reclaim(id) end
end
return out
`,
);

/**
 * List. ARGV[4] cursor ('' from the start), [5] state or '', [6] pool or '', [7] records
 * wanted, [8] most ids to look at. Walks ids in order from after the cursor. Returns
 * {records, last id looked at or '', 1 when the look-at bound stopped the walk else 0}.
 */
export const LIST = script(
  'list',
  `
local wanted, scan = tonumber(ARGV[7]), tonumber(ARGV[8])
local from = ARGV[4] == '' and '-' or '(' .. ARGV[4]
local out, seen, last, capped = {}, 0, '', 0
while #out < wanted do
  if seen >= scan then capped = 1 break end
  local ids = redis.call('ZRANGEBYLEX', P .. 'ids', from, '+', 'LIMIT', 0, math.min(256, scan - seen))
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    seen = seen + 1
    last = id
    local k = P .. 't:' .. id
    local f = redis.call('HMGET', k, 'state', 'pool')
    if f[1] and (ARGV[5] == '' or f[1] == ARGV[5]) and (ARGV[6] == '' or f[2] == ARGV[6]) then
      out[#out + 1] = redis.call('HGETALL', k)
      if #out >= wanted then break end
    end
  end
  from = '(' .. last
end
return {out, last, capped}
`,
);

/** Every script of the queue. */
export const QUEUE_SCRIPTS = [SUBMIT, CLAIM, REPORT, FAIL, EXTEND, CANCEL, RECLAIM, LIST];
