/**
 * The Lua scripts that make every write atomic on the server: the revision comes from one
 * `INCR` counter (so revisions grow across delete and re-create), the hash is written, and the
 * change is published, all in one script run (no other command runs in between).
 *
 * KEYS[1] = the key's hash, KEYS[2] = the revision counter.
 * Writes: ARGV[1] = value, ARGV[2] = float paths ('' for none), ARGV[3] = channel,
 * ARGV[4] = change message, ARGV[5] = expected revision ('0': absent; only for `cas`).
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
redis.call('PUBLISH', ARGV[3], ARGV[4])
return r`;

/** Unconditional write (replaces whatever the key held); returns the new revision. */
export const PUT = script(`redis.call('DEL', KEYS[1])${WRITE}`);

/** Conditional write: returns the new revision, or nil when the current revision is not ARGV[5]. */
export const CAS = script(`
if ARGV[5] == '0' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return false end
else
  if redis.call('HGET', KEYS[1], 'revision') ~= ARGV[5] then return false end
end${WRITE}`);

/** Delete: KEYS[1]; ARGV[1] = channel, ARGV[2] = message. Returns 1 if the key existed. */
export const DELETE = script(`
local n = redis.call('DEL', KEYS[1])
if n == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n`);
