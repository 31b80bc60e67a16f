// How a claimed or live task ends an attempt without completing it: retry with backoff or
// dead-letter (`fail`, expired leases), and failure past its deadline. Functions of a TaskCore.
import { exponentialBackoff, type StoreEntry } from '@converge/core';
import type { CallOptions } from '../common.js';
import { claimedKey, deadKey, pendingKey, type ReleasedClaim, type TaskRecord } from './records.js';
import type { TaskCore } from './core.js';
import { COUNTER } from './counters.js';

/**
 * Applies one failed attempt to a claimed record in place: back to pending (with an
 * exponential `notBefore` when `backoff`), or dead-lettered once past `maxRetries`.
 */
export function failAttempt(core: TaskCore, r: TaskRecord, reason: string, now: number, backoff: boolean): void {
  r.failures += 1;
  r.failureReason = reason;
  r.leaseExpiresAt = null;
  r.updatedAt = now;
  const maxRetries = r.constraints.maxRetries ?? core.maxRetries;
  if (r.failures > maxRetries) {
    r.state = 'failed';
    r.deadLettered = true;
    return;
  }
  unassign(r, backoff ? now + exponentialBackoff(r.failures - 1, core.retryBase, core.retryMax) : null, now);
}

/** Sets a record's claim fields in place: a claim (`assigned`, holder, lease) or its end (`pending`, claimable from `notBefore`). */
export function setClaim(
  rec: TaskRecord,
  state: 'assigned' | 'pending',
  holder: string | null,
  claimedAt: number | null,
  leaseExpiresAt: number | null,
  notBefore: number | null,
  now: number,
): void {
  rec.state = state;
  rec.assignedTo = holder;
  rec.claimedAt = claimedAt;
  rec.leaseExpiresAt = leaseExpiresAt;
  rec.notBefore = notBefore;
  rec.updatedAt = now;
}

/** Sends a claimed record back to pending in place: no holder, no lease, claimable from `notBefore` (`null`: at once). */
export function unassign(rec: TaskRecord, notBefore: number | null, now: number): void {
  setClaim(rec, 'pending', null, null, null, notBefore, now);
}

/** Index writes after a claimed record went back to pending or to the dead letters. */
export async function afterFailOrRelease(core: TaskCore, rec: TaskRecord, attempt: number, options: CallOptions): Promise<void> {
  const sig: CallOptions = options; // the store reads `signal` only
  if (rec.deadLettered) await core.store.put(deadKey(rec.id), 1, sig);
  else await core.store.put(pendingKey(rec.poolId, rec.id), 1, sig);
  // Deleted last: until then the sweep can finish an interrupted release from this entry.
  await core.store.delete(claimedKey(rec.id, attempt), sig);
}

/** Takes back an expired claim (one CAS). Returns what happened, or `null` if another writer won. */
export async function releaseExpired(
  core: TaskCore,
  key: string,
  entry: StoreEntry<TaskRecord>,
  now: number,
  options: CallOptions,
): Promise<ReleasedClaim | null> {
  const rec = entry.value;
  const attempt = rec.attempts;
  const agentId = rec.assignedTo;
  const was = rec.state;
  failAttempt(core, rec, 'lease-expired', now, false);
  core.own.delete(rec.id);
  if ((await core.store.compareAndSet(key, rec, entry.revision, { signal: options.signal })) === null) {
    core.count(COUNTER.casRetries);
    return null;
  }
  core.meters.moved(was, rec, now);
  await afterFailOrRelease(core, rec, attempt, options);
  core.count(COUNTER.released);
  if (rec.deadLettered) core.count(COUNTER.deadLettered);
  core.events.emit('released', rec);
  return { taskId: rec.id, agentId, attempt, outcome: rec.deadLettered ? 'dead-lettered' : 'pending' };
}

/**
 * Fails a task past its deadline (reason `'deadline'`). With `raise`, then throws the
 * `ConflictError` the touching call owes its caller; returns whether this call expired it.
 */
export async function expire(core: TaskCore, key: string, entry: StoreEntry<TaskRecord>, now: number, options: CallOptions, raise = true): Promise<boolean> {
  const rec = entry.value;
  const was = rec.state;
  rec.state = 'failed';
  rec.failureReason = 'deadline';
  rec.leaseExpiresAt = null;
  rec.updatedAt = now;
  core.own.delete(rec.id);
  const won = (await core.store.compareAndSet(key, rec, entry.revision, { signal: options.signal })) !== null;
  if (won) {
    core.meters.moved(was, rec, now);
    const sig: CallOptions = options; // the store reads `signal` only
    if (was === 'pending') await core.store.delete(pendingKey(rec.poolId, rec.id), sig);
    else await core.store.delete(claimedKey(rec.id, rec.attempts), sig);
    core.count(COUNTER.expired);
    core.events.emit('failed', { task: rec, reason: 'deadline', deadLettered: false, retryAt: null });
  } else {
    core.count(COUNTER.casRetries);
  }
  if (raise && won) throw core.conflict(`task ${rec.id} passed its deadline ${rec.constraints.deadline} and failed`, 'failed');
  return won;
}
