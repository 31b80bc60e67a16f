// Leases: winning a claim (exactly once across every TaskManager on the store), extending it,
// and fencing every later call of the holder against a stale or expired lease.
import { ConflictError, ValidationError, requireLease } from '@converge/core';
import { requireId, type CallOptions } from '../common.js';
import type { ClaimTaskOptions } from './options.js';
import { claimedKey, isClaimed, pastDeadline, pendingKey, recordKey, type Lease, type TaskRecord } from './records.js';
import type { OwnWrite } from './own-writes.js';
import type { TaskCore } from './core.js';
import { expire, releaseExpired, setClaim } from './retry.js';
import { COUNTER } from './counters.js';

/** `TaskManager.claim`: see there. */
export async function claimTask(core: TaskCore, agentId: string, taskId: string, options: ClaimTaskOptions): Promise<Lease> {
  requireId(agentId, 'agentId');
  const capabilities = capabilitySet(options.capabilities);
  const own = core.own.get(requireId(taskId, 'taskId'));
  // The remembered key string is built and hashed once, not on every call.
  const key = own?.key ?? recordKey(taskId);
  const sig: CallOptions = options; // the store reads `signal` only
  // Access is checked once per call, on the first record seen: the fields it reads (pool,
  // required capabilities) never change after submit, so a later CAS round needs no new check.
  let checked = false;
  if (own !== undefined) {
    // Decided without an await when the cached pool lets the claimer in (as `submit` does).
    if (!core.access.passesClaimNow(own.rec, agentId, capabilities)) await core.access.checkClaim(own.rec, agentId, capabilities, sig);
    checked = true;
    const lease = await claimOwn(core, agentId, taskId, key, own, sig);
    if (lease !== null) return lease;
  }
  for (let round = 0; round < core.casRounds; round++) {
    const entry = await core.read(key, taskId, sig);
    const rec = entry.value;
    if (!checked) {
      if (!core.access.passesClaimNow(rec, agentId, capabilities)) await core.access.checkClaim(rec, agentId, capabilities, sig);
      checked = true;
    }
    const now = core.clock();
    if (pastDeadline(rec, now)) {
      await expire(core, key, entry, now, options);
      continue;
    }
    if (isClaimed(rec) && rec.leaseExpiresAt !== null && rec.leaseExpiresAt <= now) {
      await releaseExpired(core, key, entry, now, options);
      continue;
    }
    if (rec.state !== 'pending') {
      throw core.conflict(`task ${taskId} is ${rec.state}${rec.assignedTo ? ` (assigned to ${rec.assignedTo})` : ''}`, rec.state);
    }
    if (rec.notBefore !== null && rec.notBefore > now) {
      throw core.conflict(`task ${taskId} is pending a retry, claimable from ${rec.notBefore}`, rec.state);
    }
    const was = rec.state;
    const { attempt, expiresAt } = assign(rec, agentId, now, core.ttl);
    // The claim index is written before the CAS so that a crash right after it never leaves
    // an unindexed claim (which the sweep could then never release).
    await core.store.put(claimedKey(taskId, attempt), agentId, sig);
    const revision = await core.store.compareAndSet(key, rec, entry.revision, sig);
    if (revision === null) {
      core.count(COUNTER.casRetries);
      continue;
    }
    core.remember(rec, revision);
    core.meters.moved(was, rec, now);
    return claimed(core, rec, attempt, expiresAt, sig);
  }
  throw core.conflict(`task ${taskId}: gave up after ${core.casRounds} contended rounds`, undefined);
}

/**
 * Claim from the record this manager wrote last, without reading it back: the CAS against
 * its revision fails if anyone wrote the task since. `null` = decide from the store instead
 * (a refusal is always decided on a fresh read).
 */
async function claimOwn(core: TaskCore, agentId: string, taskId: string, key: string, own: OwnWrite, sig: CallOptions): Promise<Lease | null> {
  const cur = own.rec;
  const now = core.clock();
  if (cur.state !== 'pending' || (cur.notBefore !== null && cur.notBefore > now) || pastDeadline(cur, now)) return null;
  const rec: TaskRecord = { ...cur };
  const { attempt, expiresAt } = assign(rec, agentId, now, core.ttl);
  // As in `claimTask`: the claim index first. If the CAS then fails, the entry names an attempt
  // the record has passed or will reach through a rival's claim, and the sweep clears it.
  await core.store.put(claimedKey(taskId, attempt), agentId, sig);
  const revision = await core.store.compareAndSet(key, rec, own.revision, sig);
  if (revision === null) {
    core.own.delete(taskId);
    return null;
  }
  core.own.set(taskId, key, rec, revision);
  core.meters.moved(cur.state, rec, now);
  return claimed(core, rec, attempt, expiresAt, sig);
}

/** After a won claim: the pending-index entry goes, the counter and the `claimed` event. */
async function claimed(core: TaskCore, rec: TaskRecord, attempt: number, expiresAt: number, sig: CallOptions): Promise<Lease> {
  // `core.tidy`, inlined (no closure per claim): the claim is won, an index failure only counts.
  try {
    await core.store.delete(pendingKey(rec.poolId, rec.id), sig);
  } catch {
    core.count(COUNTER.indexWriteFailures);
  }
  core.count(COUNTER.claims);
  const lease: Lease = { taskId: rec.id, agentId: rec.assignedTo!, attempt, expiresAt };
  if (core.events.hasListeners('claimed')) core.events.emit('claimed', { task: core.out(rec), lease });
  return lease;
}

/** `TaskManager.extendClaim`: see there. */
export async function extendLease(core: TaskCore, lease: Lease, options: CallOptions): Promise<Lease> {
  requireLease(lease, 'extendClaim');
  let out: Lease | undefined;
  await core.transition(lease.taskId, options, (rec, now) => {
    checkHolder(rec, lease.agentId, lease, now);
    rec.leaseExpiresAt = now + (rec.constraints.claimTtlMs ?? core.ttl);
    rec.updatedAt = now;
    out = { taskId: rec.id, agentId: lease.agentId, attempt: rec.attempts, expiresAt: rec.leaseExpiresAt };
  });
  core.count(COUNTER.extended);
  return out!;
}

/**
 * Checks the lease a holder's call must carry (`ValidationError` when missing or malformed, or
 * for another task or agent than the call's): fencing is not optional, since a call without
 * the lease would pass for any later claim by the same agent.
 */
export function requireHolderLease(lease: Lease | undefined, agentId: string, taskId: string, call: string): Lease {
  const l = requireLease(lease, call);
  if (l.taskId !== taskId) throw new ValidationError(`${call}: the lease is for task ${l.taskId}, not ${taskId}`);
  if (l.agentId !== agentId) throw new ValidationError(`${call}: the lease belongs to ${l.agentId}, not ${agentId}`);
  return l;
}

/** Fencing: the caller must hold the current, unexpired claim, and `lease` must be it. */
export function checkHolder(rec: TaskRecord, agentId: string, lease: Lease, now: number): void {
  if (!isClaimed(rec)) throw new ConflictError(`task ${rec.id} is ${rec.state}, not claimed`, { currentState: rec.state });
  if (lease.taskId !== rec.id) throw new ValidationError(`lease is for task ${lease.taskId}, not ${rec.id}`);
  if (lease.agentId !== agentId) throw new ConflictError(`lease belongs to ${lease.agentId}, not ${agentId}`, { currentState: rec.state });
  if (lease.attempt !== rec.attempts) {
    throw new ConflictError(
      `stale lease on task ${rec.id}: attempt ${lease.attempt}, current attempt ${rec.attempts} (${rec.state}, assigned to ${rec.assignedTo})`,
      { currentState: rec.state },
    );
  }
  if (rec.assignedTo !== agentId) {
    throw new ConflictError(`task ${rec.id} is ${rec.state} and assigned to ${rec.assignedTo}, not ${agentId}`, { currentState: rec.state });
  }
  if (rec.leaseExpiresAt !== null && rec.leaseExpiresAt <= now) {
    throw new ConflictError(`lease on task ${rec.id} (attempt ${rec.attempts}) expired at ${rec.leaseExpiresAt}`, { currentState: rec.state });
  }
}

/** The claimer's capabilities as a set (`ValidationError` for a non-string). */
function capabilitySet(capabilities: Iterable<string> | undefined): ReadonlySet<string> {
  const out = new Set<string>();
  if (capabilities === undefined) return out;
  if (capabilities === null || typeof (capabilities as Iterable<string>)[Symbol.iterator] !== 'function')
    throw new ValidationError('claim capabilities must be an iterable of strings');
  for (const c of capabilities) {
    if (typeof c !== 'string') throw new ValidationError('claim capabilities must be strings');
    out.add(c);
  }
  return out;
}

/** Turns a pending record into a claim by `agentId` (the next attempt, leased until `expiresAt`). */
function assign(rec: TaskRecord, agentId: string, now: number, defaultTtl: number): { attempt: number; expiresAt: number } {
  const attempt = rec.attempts + 1;
  const expiresAt = now + (rec.constraints.claimTtlMs ?? defaultTtl);
  rec.attempts = attempt;
  setClaim(rec, 'assigned', agentId, now, expiresAt, null, now);
  return { attempt, expiresAt };
}
