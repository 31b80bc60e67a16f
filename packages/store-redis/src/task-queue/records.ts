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
    id: need('id', text('id')), objective: body.objective, inputs: body.inputs, outputs: body.outputs, constraints: body.constraints,
    evaluator: body.evaluator, state: state as TaskState, assignedTo: text('assigned_to'), result, claimedAt: int('claimed_at'),
    poolId: need('pool', text('pool')), topic: body.topic, requiredCapabilities: caps as string[], attempts: need('attempts', int('attempts')),
    leaseExpiresAt: int('lease_expires_at'), notBefore: int('not_before'), failures: need('failures', int('failures')),
    deadLettered: text('dead_lettered') === '1', failureReason: text('failure_reason'),
    submittedAt: need('submitted_at', int('submitted_at')), updatedAt: need('updated_at', int('updated_at')),
  };
}
