// Rows of the tasks table ↔ queue records. The task's own fields (objective, inputs, outputs,
// constraints, evaluator, topic) and the result travel as the wire codec's bytes, so every
// wire value comes back as it went in.
import { decodeValue, encodeValue, type ExpiredTask, type QueuedTask, type Task, type TaskState, type WireValue } from '@converge/core';

/** A row as the statements return it (bigint columns parsed to numbers by the queue's pool). */
export interface TaskRow {
  id: string;
  pool: string;
  state: TaskState;
  caps: string[];
  attempts: number;
  failures: number;
  assigned_to: string | null;
  claimed_at: number | null;
  lease_expires_at: number | null;
  not_before: number | null;
  deadline: number | null;
  dead_lettered: boolean;
  failure_reason: string | null;
  submitted_at: number;
  updated_at: number;
  body: Uint8Array;
  result: Uint8Array | null;
}

/** The part of a task stored in `body`. */
type Body = Pick<Task, 'objective' | 'inputs' | 'outputs' | 'constraints' | 'evaluator' | 'topic'>;

/** Encodes the `body` column of a task. */
export function encodeBody(t: Task): Uint8Array {
  const body: Body = { objective: t.objective, inputs: t.inputs, outputs: t.outputs, constraints: t.constraints, evaluator: t.evaluator, topic: t.topic };
  return encodeValue(body);
}

/** Encodes a result (`null` for none). */
export function encodeResult(result: WireValue): Uint8Array {
  return encodeValue(result === undefined ? null : result);
}

/** A plain Uint8Array view of a bytea (pg hands out Buffers; decoded byte strings must not be Buffers). */
function bytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The queue record of a row. */
export function rowToTask(r: TaskRow): QueuedTask {
  const body = decodeValue(bytes(r.body)) as Body;
  return {
    id: r.id,
    objective: body.objective,
    inputs: body.inputs,
    outputs: body.outputs,
    constraints: body.constraints,
    evaluator: body.evaluator,
    state: r.state,
    assignedTo: r.assigned_to,
    result: r.result === null ? null : (decodeValue(bytes(r.result)) as WireValue),
    claimedAt: r.claimed_at,
    poolId: r.pool,
    topic: body.topic,
    requiredCapabilities: r.caps,
    attempts: r.attempts,
    leaseExpiresAt: r.lease_expires_at,
    notBefore: r.not_before,
    failures: r.failures,
    deadLettered: r.dead_lettered,
    failureReason: r.failure_reason,
    submittedAt: r.submitted_at,
    updatedAt: r.updated_at,
  };
}

/** What `expire` reports of a row the sweep changed. */
export function expiredOf(r: {
  id: string;
  state: TaskState;
  attempts: number;
  dead_lettered: boolean;
  failure_reason: string | null;
  agent: string | null;
}): ExpiredTask {
  const outcome = r.failure_reason === 'deadline' ? 'expired' : r.dead_lettered ? 'dead-lettered' : 'pending';
  return { taskId: r.id, agentId: r.agent, attempt: r.attempts, outcome };
}
