// The task lifecycle past the claim, as TaskManager's public calls make it: submit, start,
// report, fail, release, cancel. Each is one `TaskCore.transition` (or a putIfAbsent for
// submit), then its index writes, counters and event, in that order.
import { ConflictError, ValidationError, createTask, type Task, type TaskInit, type WireValue } from '@converge/core';
import { requireId, type CallOptions } from '../common.js';
import { claimedKey, isClaimed, isTerminal, pendingKey, recordKey, validateConstraints, type Lease, type TaskRecord } from './records.js';
import { conflictError, type TaskCore } from './core.js';
import { checkHolder, requireHolderLease } from './claims.js';
import { afterFailOrRelease, failAttempt, unassign } from './retry.js';
import type { CancelTaskOptions, SubmitTaskOptions } from './options.js';
import { COUNTER } from './counters.js';

/** `TaskManager.submit`: see there. */
export async function submitTask(core: TaskCore, task: Task | TaskInit, options: SubmitTaskOptions): Promise<TaskRecord> {
  const { t, by, now } = checkSubmit(core, task, options);
  // Before any write: a refused task leaves nothing behind (not even a pending-index entry).
  if (!core.access.passesSubmitNow(t, by)) await core.access.checkSubmit(t, by, options);
  const rec = newRecord(t, by, now);
  const sig: CallOptions = options; // the store reads `signal` only
  const key = recordKey(rec.id);
  // The writes stay inline (no helper function): each async level adds microtask ticks, which
  // spread the 'submitted' events of a batch over more worker turns.
  core.index.arm(rec.id);
  let revision: number | null;
  try {
    // Index first, record second: if the record write then fails, the entry points at nothing
    // and listing removes it; the other order could leave a pending task that is never offered.
    // Both writes start at once; awaited one after the other (no `Promise.all`: its extra ticks
    // spread the 'submitted' events too). The pool-index write's failure is still the
    // submit's, and never an unhandled rejection.
    const pooled = core.poolIndex.add(rec, now, sig);
    pooled.catch(() => undefined);
    await core.store.put(pendingKey(rec.poolId, rec.id), now, sig);
    await pooled;
    // Revision 0 = "must not exist" (putIfAbsent), and the answer is the revision to remember.
    revision = await core.store.compareAndSet(key, rec, 0, sig);
  } catch (err) {
    core.index.prime(rec.id, undefined);
    throw err;
  }
  if (revision === null) {
    core.index.prime(rec.id, undefined);
    const existing = await core.store.get<TaskRecord>(key, sig);
    throw core.conflict(`task ${rec.id} already exists`, existing?.state);
  }
  // The same key string as the write's (its hash is cached): later transitions reuse it. The
  // listings get the same frozen copy (no read back of a record just written).
  core.index.prime(rec.id, core.remember(rec, revision, key));
  core.count(COUNTER.submitted);
  core.meters.moved(null, rec, now);
  core.events.emit('submitted', rec);
  return rec;
}

/** The task to submit, checked before any write (`ValidationError`); `by` checked when given. */
function checkSubmit(core: TaskCore, task: Task | TaskInit, options: SubmitTaskOptions): { t: Task; by: string | undefined; now: number } {
  const t = createTask(task);
  requireId(t.id, 'task id');
  if (t.state !== 'pending') throw new ValidationError(`task ${t.id}: a submitted task must be pending, got ${t.state}`);
  validateConstraints(t);
  const by = options.by === undefined ? undefined : requireId(options.by, 'submit by');
  const now = core.clock();
  if (t.constraints.deadline !== undefined && now >= t.constraints.deadline) {
    throw new ValidationError(`task ${t.id}: deadline ${t.constraints.deadline} already passed`);
  }
  return { t, by, now };
}

/** The pending record of a new task. */
function newRecord(t: Task, by: string | undefined, now: number): TaskRecord {
  // Spelled out rather than `{ ...t, more }`: V8 gives a spread followed by new members a
  // hidden class of its own per object (measured: ~50x slower to build, and every later
  // access to such records megamorphic). One literal = one shape for every record.
  return {
    id: t.id,
    objective: t.objective,
    inputs: t.inputs,
    outputs: t.outputs,
    constraints: t.constraints,
    evaluator: t.evaluator,
    state: t.state,
    assignedTo: null,
    result: t.result ?? null,
    claimedAt: null,
    poolId: t.poolId,
    topic: t.topic,
    requiredCapabilities: t.requiredCapabilities,
    attempts: 0,
    leaseExpiresAt: null,
    notBefore: null,
    failures: 0,
    deadLettered: false,
    failureReason: null,
    submittedAt: now,
    updatedAt: now,
    submittedBy: by ?? null,
  };
}

/** `TaskManager.start`: see there. */
export async function startTask(core: TaskCore, agentId: string, taskId: string, lease: Lease, options: CallOptions): Promise<TaskRecord> {
  requireId(agentId, 'agentId');
  requireHolderLease(lease, agentId, taskId, 'start');
  const rec = await core.transition(taskId, options, (r, now) => {
    if (r.state !== 'assigned') throw conflictError(`task ${taskId} is ${r.state}, not assigned`, r.state);
    checkHolder(r, agentId, lease, now);
    r.state = 'running';
    r.updatedAt = now;
  });
  const out = core.out(rec);
  core.events.emit('started', out);
  return out;
}

/** `TaskManager.report`: see there. */
export async function reportTask(core: TaskCore, agentId: string, taskId: string, result: WireValue, lease: Lease, options: CallOptions): Promise<TaskRecord> {
  requireId(agentId, 'agentId');
  requireHolderLease(lease, agentId, taskId, 'report');
  let attempt = 0;
  let fenced: ConflictError | undefined;
  let rec: TaskRecord;
  try {
    rec = await core.transition(taskId, options, (r, now) => {
      try {
        checkHolder(r, agentId, lease, now);
      } catch (err) {
        // A report on a void lease: told apart from a lost CAS round, which is no one's fault.
        if (ConflictError.is(err)) fenced = err;
        throw err;
      }
      attempt = r.attempts;
      r.state = 'completed';
      r.result = result === undefined ? null : result;
      r.leaseExpiresAt = null;
      r.updatedAt = now;
    });
  } catch (err) {
    if (fenced !== undefined && err === fenced && core.events.hasListeners('fenced')) {
      core.events.emit('fenced', { taskId, agentId, attempt: lease.attempt, reason: fenced.message });
    }
    throw err;
  }
  // `core.tidy`, inlined (no closure per report): the report is done, an index failure only counts.
  try {
    await core.store.delete(claimedKey(taskId, attempt), options);
  } catch {
    core.count(COUNTER.indexWriteFailures);
  }
  core.count(COUNTER.completed);
  const out = core.out(rec);
  if (core.events.hasListeners('completed')) core.events.emit('completed', out);
  return out;
}

/** `TaskManager.fail`: see there. */
export async function failTask(core: TaskCore, taskId: string, reason: string, agentId: string, lease: Lease, options: CallOptions): Promise<TaskRecord> {
  if (typeof reason !== 'string') throw new ValidationError('fail reason must be a string');
  requireId(agentId, 'agentId');
  requireHolderLease(lease, agentId, taskId, 'fail');
  let attempt = 0;
  const rec = await core.transition(taskId, options, (r, now) => {
    if (!isClaimed(r)) throw conflictError(`task ${taskId} is ${r.state}; only a claimed task can fail`, r.state);
    checkHolder(r, agentId, lease, now);
    attempt = r.attempts;
    failAttempt(core, r, reason, now, true);
  });
  await afterFailOrRelease(core, rec, attempt, options);
  core.count(COUNTER.failed);
  if (rec.deadLettered) core.count(COUNTER.deadLettered);
  else core.count(COUNTER.retried);
  const out = core.out(rec);
  core.events.emit('failed', { task: out, reason, deadLettered: rec.deadLettered, retryAt: rec.deadLettered ? null : rec.notBefore });
  return out;
}

/** `TaskManager.release`: see there. */
export async function releaseTask(core: TaskCore, agentId: string, taskId: string, lease: Lease, options: CallOptions): Promise<TaskRecord> {
  requireId(agentId, 'agentId');
  requireHolderLease(lease, agentId, taskId, 'release');
  let attempt = 0;
  const rec = await core.transition(taskId, options, (r, now) => {
    checkHolder(r, agentId, lease, now);
    attempt = r.attempts;
    unassign(r, null, now);
  });
  await afterFailOrRelease(core, rec, attempt, options);
  core.count(COUNTER.returned);
  const out = core.out(rec);
  core.events.emit('released', out);
  return out;
}

/** `TaskManager.cancel`: see there. */
export async function cancelTask(core: TaskCore, taskId: string, options: CancelTaskOptions): Promise<TaskRecord> {
  requireId(taskId, 'taskId');
  if (options.by !== undefined) {
    const by = requireId(options.by, 'cancel by');
    // Checked on a read before the transition: who submitted the task and its pool never change
    // after submit, so the right cannot be lost in between (a terminal task is refused below).
    const { value } = await core.read(recordKey(taskId), taskId, options);
    await core.access.checkCancel(value, by, options);
  }
  let before: TaskRecord['state'] = 'pending';
  const rec = await core.transition(taskId, options, (r, now) => {
    if (isTerminal(r)) throw conflictError(`task ${taskId} is already ${r.state}`, r.state);
    before = r.state;
    r.state = 'cancelled';
    // The holder's lease is void: every fenced call checks the state first (not claimed →
    // ConflictError), and the lease expiry goes with the claim.
    r.leaseExpiresAt = null;
    r.updatedAt = now;
  });
  const sig: CallOptions = options; // the store reads `signal` only
  if (before === 'pending') await core.store.delete(pendingKey(rec.poolId, taskId), sig);
  else await core.store.delete(claimedKey(taskId, rec.attempts), sig);
  core.count(COUNTER.cancelled);
  const out = core.out(rec);
  core.events.emit('cancelled', out);
  return out;
}
