// Task records of the JetStream queue: their bytes in the bucket, and every transition as a
// pure function of (record, now, defaults), so the fenced calls, the sweep and the claim path
// share one definition of what each transition does (the same as the PostgreSQL queue's SQL).
import {
  decodeValue,
  encodeValue,
  retryDelayMs,
  type RawMsgpack,
  type ExpiredTask,
  type ListTasksOptions,
  type TaskPage,
  type QueuedTask,
  type ResolvedQueueDefaults,
  type TaskQueueEvent,
  type WireValue,
} from '@converge/core';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';

/** A stored record: the task, and the reply subject of its message's latest delivery (to ack, nak or term it). */
export interface TaskRecord {
  task: QueuedTask;
  ack: string | null;
}

/** Header of a record write that is a transition: `[state, attempt, poolId, taskId]` (what `watch` reads). */
export const EVENT_HEADER = 'Cv-Event';

/**
 * Encodes a record (wire codec: every wire value comes back as it went in). `taskBytes`: the
 * task already encoded (the same bytes, written as they are: a submit encodes its task once for
 * the record and the message).
 */
export function encodeRecord(r: TaskRecord, taskBytes?: RawMsgpack): Uint8Array {
  return encodeValue({ t: taskBytes ?? (r.task as unknown as WireValue), a: r.ack });
}

/** Decodes a record; `null` when the bytes are not one (a foreign or corrupt entry). */
export function decodeRecord(bytes: Uint8Array): TaskRecord | null {
  try {
    return recordOf(decodeValue(bytes));
  } catch {
    return null;
  }
}

/** The record in a decoded value, or `null` when it is not one. */
export function recordOf(value: unknown): TaskRecord | null {
  const v = value as { t?: QueuedTask; a?: string | null } | null;
  if (!v || typeof v !== 'object' || !v.t || typeof v.t !== 'object' || typeof v.t.id !== 'string' || typeof v.t.state !== 'string') return null;
  const t = v.t;
  // The codec stores `undefined` as null; give the optional task fields back as absent.
  for (const k of ['topic', 'evaluator'] as const)
    if ((t as unknown as Record<string, unknown>)[k] === null) delete (t as unknown as Record<string, unknown>)[k];
  return { task: t, ack: typeof v.a === 'string' ? v.a : null };
}

/** The headers of a write that moves `task` to a new state or attempt. */
export function eventHeaders(task: QueuedTask): MsgHdrs {
  const h = natsHeaders();
  h.set(EVENT_HEADER, JSON.stringify([task.state, task.attempts, task.poolId, task.id]));
  return h;
}

/** Parses an `EVENT_HEADER`, or `null`. */
export function parseEvent(value: string | undefined): TaskQueueEvent | null {
  if (!value) return null;
  try {
    const [state, attempt, poolId, taskId] = JSON.parse(value) as [TaskQueueEvent['state'], number, string, string];
    if (typeof state !== 'string' || typeof attempt !== 'number' || typeof poolId !== 'string' || typeof taskId !== 'string') return null;
    return { state, attempt, poolId, taskId };
  } catch {
    return null;
  }
}

/** The task's lease length. */
export function leaseMsOf(t: QueuedTask, d: ResolvedQueueDefaults): number {
  return t.constraints.claimTtlMs ?? d.leaseMs;
}

function maxRetriesOf(t: QueuedTask, d: ResolvedQueueDefaults): number {
  return t.constraints.maxRetries ?? d.maxRetries;
}

function deadlinePassed(t: QueuedTask, now: number): boolean {
  const dl = t.constraints.deadline;
  return typeof dl === 'number' && now >= dl;
}

/** Why a pending task cannot be claimed now by an agent with `caps`: `null` (it can), `'later'` (backoff), `'deadline'`, `'caps'`. */
export function unclaimable(t: QueuedTask, now: number, caps: readonly string[]): null | 'later' | 'deadline' | 'caps' {
  if (deadlinePassed(t, now)) return 'deadline';
  if (!t.requiredCapabilities.every((c) => caps.includes(c))) return 'caps';
  if (t.notBefore !== null && t.notBefore > now) return 'later';
  return null;
}

/** The claimed task (attempt + 1, a fresh lease). */
export function claimed(t: QueuedTask, agentId: string, now: number, d: ResolvedQueueDefaults): QueuedTask {
  return {
    ...t,
    state: 'assigned',
    assignedTo: agentId,
    claimedAt: now,
    attempts: t.attempts + 1,
    leaseExpiresAt: now + leaseMsOf(t, d),
    notBefore: null,
    updatedAt: now,
  };
}

/** The completed task. */
export function reported(t: QueuedTask, result: WireValue, now: number): QueuedTask {
  return { ...t, state: 'completed', result: result === undefined ? null : result, leaseExpiresAt: null, updatedAt: now };
}

/** The task after a failed attempt: pending after the backoff, or dead-lettered past its retries. */
export function failed(t: QueuedTask, reason: string, now: number, d: ResolvedQueueDefaults): QueuedTask {
  const failures = t.failures + 1;
  const base = { ...t, failures, failureReason: reason, leaseExpiresAt: null, updatedAt: now };
  if (failures > maxRetriesOf(t, d)) return { ...base, state: 'failed', deadLettered: true, notBefore: null };
  return { ...base, state: 'pending', assignedTo: null, claimedAt: null, notBefore: now + retryDelayMs(failures, d) };
}

/** The task whose lease ran out (or whose deadline passed while claimed), and what the sweep reports. */
export function expiredClaim(t: QueuedTask, now: number, d: ResolvedQueueDefaults): { task: QueuedTask; expired: ExpiredTask } {
  const head = { taskId: t.id, agentId: t.assignedTo, attempt: t.attempts };
  if (deadlinePassed(t, now)) {
    return {
      task: { ...t, state: 'failed', failureReason: 'deadline', leaseExpiresAt: null, notBefore: null, updatedAt: now },
      expired: { ...head, outcome: 'expired' },
    };
  }
  const failures = t.failures + 1;
  const base = { ...t, failures, failureReason: 'lease-expired', leaseExpiresAt: null, notBefore: null, updatedAt: now };
  if (failures > maxRetriesOf(t, d)) return { task: { ...base, state: 'failed', deadLettered: true }, expired: { ...head, outcome: 'dead-lettered' } };
  return { task: { ...base, state: 'pending', assignedTo: null, claimedAt: null }, expired: { ...head, outcome: 'pending' } };
}

/** The pending task past its deadline. */
export function expiredPending(t: QueuedTask, now: number): { task: QueuedTask; expired: ExpiredTask } {
  return {
    task: { ...t, state: 'failed', failureReason: 'deadline', updatedAt: now },
    expired: { taskId: t.id, agentId: null, attempt: t.attempts, outcome: 'expired' },
  };
}

/** The cancelled task. */
export function cancelled(t: QueuedTask, now: number): QueuedTask {
  return { ...t, state: 'cancelled', leaseExpiresAt: null, updatedAt: now };
}

/** Whether a task in this state still needs work (its message stays in the stream). */
export function isLive(t: QueuedTask): boolean {
  return t.state === 'pending' || t.state === 'assigned' || t.state === 'running';
}

/** Whether the sweep must look at this task by `due` (a lease or a deadline); the Unix ms, or `null`. */
export function sweepDue(t: QueuedTask): number | null {
  if (t.state === 'assigned' || t.state === 'running') {
    const dl = t.constraints.deadline;
    return Math.min(t.leaseExpiresAt ?? Infinity, typeof dl === 'number' ? dl : Infinity);
  }
  if (t.state === 'pending' && typeof t.constraints.deadline === 'number') return t.constraints.deadline;
  return null;
}

/**
 * The sweep hint a task needs: its deadline while it is live, else `null`. (Leases need none:
 * the sweep finds claimed tasks through the messages the pool consumers hold.)
 */
export function hintDue(t: QueuedTask): number | null {
  const dl = t.constraints.deadline;
  return isLive(t) && typeof dl === 'number' ? dl : null;
}

/** Whether the sweep must act on `t` at `now`. */
export function sweepable(t: QueuedTask, now: number): boolean {
  if (t.state === 'assigned' || t.state === 'running') return (t.leaseExpiresAt !== null && t.leaseExpiresAt <= now) || deadlinePassed(t, now);
  return t.state === 'pending' && deadlinePassed(t, now);
}

/** One page of `tasks` (unreadable records as `null`, skipped) in id order after `cursor`, filtered by state and pool. */
export function pageOf(tasks: readonly (QueuedTask | null)[], cursor: string | null, limit: number, options: ListTasksOptions): TaskPage {
  const picked: QueuedTask[] = [];
  for (const t of tasks) {
    if (
      t &&
      (cursor === null || t.id > cursor) &&
      (options.state === undefined || t.state === options.state) &&
      (options.poolId === undefined || t.poolId === options.poolId)
    )
      picked.push(t);
  }
  picked.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page = picked.slice(0, limit);
  return { tasks: page, cursor: picked.length > limit ? page[page.length - 1]!.id : null };
}
