/**
 * The Lua scripts that make every write atomic on the server: the revision comes from one
 * `INCR` counter (so revisions grow across delete and re-create), the hash is written, the key's
 * name enters the key index and the change is published, all in one script run (no other
 * command runs in between).
 *
 * KEYS[1] = the key's hash, KEYS[2] = the revision counter, KEYS[3] = the key index (a sorted
 * set of the store's key names, all score 0, read by `list` in lexicographic order; its member
 * '' marks an index that holds every key, see `LIST`).
 * Writes: ARGV[1] = value, ARGV[2] = float paths ('' for none), ARGV[3] = channel,
 * ARGV[4] = change message, ARGV[5] = the key's name, ARGV[6] = expected revision ('0': absent;
 * only for `cas`).
 */
import { createHash } from 'node:crypto';

/** A script and its SHA-1 (for EVALSHA). */
export interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const WRITE = `
local r = redis.call('INCR', KEYS[2])
if ARGV[2] == '' then
  redis.call('HSET', KEYS[1], 'value', ARGV[1], 'revision', r)
  redis.call('HDEL', KEYS[1], 'floats')
else
  redis.call('HSET', KEYS[1], 'value', ARGV[1], 'revision', r, 'floats', ARGV[2])
end
redis.call('ZADD', KEYS[3], 0, ARGV[5])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return r`;

/** Unconditional write (replaces whatever the key held); returns the new revision. */
export const PUT = script(`redis.call('DEL', KEYS[1])${WRITE}`);

/** Conditional write: returns the new revision, or nil when the current revision is not ARGV[6]. */
export const CAS = script(`
if ARGV[6] == '0' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return false end
else
  if redis.call('HGET', KEYS[1], 'revision') ~= ARGV[6] then return false end
end${WRITE}`);

/** Delete: KEYS[1] the hash, KEYS[2] the index; ARGV[1] = channel, ARGV[2] = message, ARGV[3] = the key's name. Returns 1 if the key existed. */
export const DELETE = script(`
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[3])
if n == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n`);

/**
 * One page of a listing: KEYS[1] the index; ARGV[1] = the prefix of the hashes' keys, ARGV[2]
 * and ARGV[3] = the ZRANGEBYLEX bounds, ARGV[4] = most names to look at. Nil when the index
 * lacks its '' marker (it was never built: the keys may have been written by a version without
 * one, see `RedisStore.reindex`); else {names looked at, the last of them or '', those whose hash exists}.
 * A name whose hash is gone (expired, evicted, deleted by hand) is dropped from the index.
 */
export const LIST = script(`
if not redis.call('ZSCORE', KEYS[1], '') then return false end
local names = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, n in ipairs(names) do
  if redis.call('EXISTS', ARGV[1] .. n) == 1 then out[#out + 1] = n else redis.call('ZREM', KEYS[1], n) end
end
return {#names, names[#names] or '', out}`);
