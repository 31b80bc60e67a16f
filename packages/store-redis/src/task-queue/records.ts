// Task hashes of a RedisTaskQueue ↔ queue records. The task's own fields (objective, inputs,
// outputs, constraints, evaluator, topic) and the result travel as the wire codec's bytes, so
// every wire value comes back as it went in; the lease and retry bookkeeping are plain fields
// the scripts read and write.
import { decodeValue, encodeValue, storedValueCorrupt, type QueuedTask, type Task, type TaskState, type WireValue } from '@converge/core';

/** The part of a task stored in the `body` field. */
type Body = Pick<Task, 'objective' | 'inputs' | 'outputs' | 'constraints' | 'evaluator' | 'topic'>;

const STATES: ReadonlySet<string> = new Set<TaskState>(['pending', 'assigned', 'running', 'completed', 'failed', 'cancelled']);

/** Encodes the `body` field of a task. */
export function encodeBody(t: Task): Buffer {
  const body: Body = { objective: t.objective, inputs: t.inputs, outputs: t.outputs, constraints: t.constraints, evaluator: t.evaluator, topic: t.topic };
  return toBuffer(encodeValue(body));
}

/** Encodes a result (`null` for none). */
export function encodeResult(result: WireValue): Buffer {
  return toBuffer(encodeValue(result === undefined ? null : result));
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A plain Uint8Array view of a reply Buffer (decoded byte strings must not be Buffers). */
function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The queue record of a task hash as `HGETALL` returns it (a flat field/value array of
 * Buffers). A hash that is not one the scripts wrote → `StoreError` `ERR_STORE_CORRUPT`.
 */
export function hashToTask(key: string, flat: unknown): QueuedTask {
  if (!Array.isArray(flat) || flat.length % 2 !== 0) throw storedValueCorrupt(key, 'not a task hash');
  const f = new Map<string, Buffer>();
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i] as unknown;
    const v = flat[i + 1] as unknown;
    if (!Buffer.isBuffer(k) || !Buffer.isBuffer(v)) throw storedValueCorrupt(key, 'not a task hash');
    f.set(k.toString('latin1'), v);
  }
  return fieldsToTask(key, f);
}

/** The task fields a claim script returns for each task it leased, in this order (see `CLAIM`). */
export const CLAIM_ROW = ['id', 'attempts', 'lease_expires_at', 'body', 'caps', 'failures', 'submitted_at', 'deadline', 'failure_reason'] as const;

/**
 * The fields of a task a claim just leased, from the script's row (`CLAIM_ROW`, a
 * missing field as `null`) and what the claim itself wrote: state `assigned`, the pool, the
 * agent, `claimed_at` = `updated_at` = now; a pending task is never dead-lettered and has no
 * retry time left once claimed. A row that is not one the script wrote → `ERR_STORE_CORRUPT`.
 */
export function claimRowFields(key: string, row: unknown, poolId: string, agentId: string, now: number): TaskFields {
  if (!Array.isArray(row) || row.length !== CLAIM_ROW.length) throw storedValueCorrupt(key, 'not a claimed task row');
  const stamp = Buffer.from(String(now), 'latin1');
  const f: TaskFields = new Map([
    ['state', Buffer.from('assigned', 'latin1')],
    ['pool', Buffer.from(poolId, 'utf8')],
    ['assigned_to', Buffer.from(agentId, 'utf8')],
    ['claimed_at', stamp],
    ['updated_at', stamp],
    ['dead_lettered', Buffer.from('0', 'latin1')],
  ]);
  for (let i = 0; i < CLAIM_ROW.length; i++) {
    const v = row[i] as unknown;
    if (v === null) continue;
    if (!Buffer.isBuffer(v)) throw storedValueCorrupt(key, 'not a claimed task row');
    f.set(CLAIM_ROW[i]!, v);
  }
  return f;
}

/**
 * The fields of a task `SUBMIT` just created, from what the client sent (the same fields the
 * script wrote, so the same record `HGETALL` would give, without reading it back).
 */
export function submittedFields(t: Task, body: Buffer, caps: string, deadline: string, now: number): TaskFields {
  const stamp = Buffer.from(String(now), 'latin1');
  const zero = Buffer.from('0', 'latin1');
  const f: TaskFields = new Map([
    ['id', Buffer.from(t.id, 'utf8')],
    ['pool', Buffer.from(t.poolId!, 'utf8')],
    ['state', Buffer.from('pending', 'latin1')],
    ['caps', Buffer.from(caps, 'utf8')],
    ['attempts', zero],
    ['failures', zero],
    ['submitted_at', stamp],
    ['updated_at', stamp],
    ['dead_lettered', zero],
    ['body', body],
  ]);
  if (deadline !== '') f.set('deadline', Buffer.from(deadline, 'latin1'));
  return f;
}

/** A task hash's fields by name (what `HGETALL` holds, or what a script wrote that the client knows). */
export type TaskFields = Map<string, Buffer>;

/**
 * The queue record of a task from its fields by name. Fields that are not the ones the
 * scripts write → `StoreError` `ERR_STORE_CORRUPT`.
 */
export function fieldsToTask(key: string, f: ReadonlyMap<string, Buffer>): QueuedTask {
  const text = (name: string): string | null => f.get(name)?.toString('utf8') ?? null;
  const int = (name: string): number | null => {
    const raw = f.get(name);
    if (raw === undefined) return null;
    const s = raw.toString('latin1');
    if (!/^-?[0-9]{1,16}$/.test(s)) throw storedValueCorrupt(key, `field ${name} is not an integer: ${JSON.stringify(s.slice(0, 40))}`);
    return Number(s);
  };
  const need = <T>(name: string, v: T | null): T => {
    if (v === null) throw storedValueCorrupt(key, `field ${name} is missing`);
    return v;
  };
  const state = need('state', text('state'));
  if (!STATES.has(state)) throw storedValueCorrupt(key, `unknown state ${JSON.stringify(state.slice(0, 40))}`);
  let body: Body;
  let caps: unknown;
  let result: WireValue = null;
  try {
    body = decodeValue(bytes(need('body', f.get('body') ?? null))) as Body;
    caps = JSON.parse(need('caps', text('caps')));
    const r = f.get('result');
    if (r !== undefined) result = decodeValue(bytes(r)) as WireValue;
  } catch (err) {
    if (err instanceof Error && (err as { code?: string }).code === 'ERR_STORE_CORRUPT') throw err;
    throw storedValueCorrupt(key, `cannot decode: ${(err as Error).message}`, err);
  }
  if (body === null || typeof body !== 'object') throw storedValueCorrupt(key, 'body is not a task body');
  if (!Array.isArray(caps) || !caps.every((c) => typeof c === 'string')) throw storedValueCorrupt(key, 'caps is not a list of strings');
  return {
    id: need('id', text('id')),
    objective: body.objective,
    inputs: body.inputs,
    outputs: body.outputs,
    constraints: body.constraints,
    evaluator: body.evaluator,
    state: state as TaskState,
    assignedTo: text('assigned_to'),
    result,
    claimedAt: int('claimed_at'),
    poolId: need('pool', text('pool')),
    topic: body.topic,
    requiredCapabilities: caps as string[],
    attempts: need('attempts', int('attempts')),
    leaseExpiresAt: int('lease_expires_at'),
    notBefore: int('not_before'),
    failures: need('failures', int('failures')),
    deadLettered: text('dead_lettered') === '1',
    failureReason: text('failure_reason'),
    submittedAt: need('submitted_at', int('submitted_at')),
    updatedAt: need('updated_at', int('updated_at')),
  };
}
