import type { Decision } from './decisions.js';
import { ConflictError, PolicyError, TimeoutError } from './errors.js';
import { isFloat64 } from './float.js';

/**
 * What became of one executed decision:
 * - `ok`: it took effect (`result` holds what it produced);
 * - `conflict`: it lost a race or met a state that forbids it (a claim someone else won);
 * - `refused`: a policy refused it (the safety policy, an allowlist, a resource limit);
 * - `failed`: it was tried and failed (or could not be run: unknown type, skipped, stopped);
 * - `timeout`: it did not finish in the time it was given (a hanging tool).
 */
export type OutcomeStatus = 'ok' | 'conflict' | 'refused' | 'failed' | 'timeout';

/** Every outcome status. */
export const OUTCOME_STATUSES: readonly OutcomeStatus[] = ['ok', 'conflict', 'refused', 'failed', 'timeout'];

/**
 * An error as plain data (it survives a replay log, a store or the wire): the error's `name`,
 * its stable `code` (`ERR_...` for Converge errors, `ERR_UNKNOWN` otherwise), its message and,
 * bounded, the chain of causes.
 */
export interface OutcomeError {
  name: string;
  code: string;
  message: string;
  cause?: OutcomeError;
}

/** The result of one executed decision, handed to the agent in its next turn. */
export interface Outcome {
  /** The decision as the agent returned it. */
  decision: Decision;
  status: OutcomeStatus;
  /**
   * What an `ok` decision produced, as plain data: a tool's return value, the lease after a
   * claim, the task after a submit, the pool after a create, the message id after a send...
   */
  result?: unknown;
  /** Why a decision that is not `ok` did not take effect. */
  error?: OutcomeError;
}

/**
 * The third argument of `Agent.decide`: what the runtime knows beyond messages and tasks.
 * The runtime always passes one; agents written for two arguments simply ignore it.
 */
export interface DecideContext {
  /** Outcomes of the decisions of the agent's previous turn, in decision order. */
  readonly outcomes: readonly Outcome[];
  /** Outcomes left out of `outcomes` by the per-agent bound since the previous turn (oldest go first). */
  readonly droppedOutcomes: number;
}

/** A context with no outcomes (what a turn with nothing to report gets). */
export const EMPTY_DECIDE_CONTEXT: DecideContext = Object.freeze({ outcomes: Object.freeze([]) as readonly Outcome[], droppedOutcomes: 0 });

/** Deepest cause chain kept by `toOutcomeError` (a guard against cycles). */
export const MAX_OUTCOME_ERROR_CAUSES = 4;
/** Longest error message kept by `toOutcomeError`, in characters (longer ones are cut). */
export const MAX_OUTCOME_ERROR_MESSAGE = 2_048;

/** `err` (anything thrown) as plain, bounded data. */
export function toOutcomeError(err: unknown, depth = 0): OutcomeError {
  const e = err instanceof Error ? err : undefined;
  const rawCode = (e as { code?: unknown } | undefined)?.code;
  let message = e ? e.message : String(err);
  if (message.length > MAX_OUTCOME_ERROR_MESSAGE) message = `${message.slice(0, MAX_OUTCOME_ERROR_MESSAGE)}...`;
  const out: OutcomeError = {
    name: e ? e.name : typeof err,
    code: typeof rawCode === 'string' ? rawCode : 'ERR_UNKNOWN',
    message,
  };
  if (e && e.cause !== undefined && depth + 1 < MAX_OUTCOME_ERROR_CAUSES) out.cause = toOutcomeError(e.cause, depth + 1);
  return out;
}

/**
 * The status an error means: a `TimeoutError` is `timeout`, a `PolicyError` (limits included)
 * `refused`, a `ConflictError` `conflict`, anything else `failed`.
 */
export function statusOfError(err: unknown): Exclude<OutcomeStatus, 'ok'> {
  if (TimeoutError.is(err)) return 'timeout';
  if (PolicyError.is(err)) return 'refused';
  if (ConflictError.is(err)) return 'conflict';
  return 'failed';
}

/** Deepest nesting `toPlainResult` copies; below it a value is cut to `null`. */
export const MAX_RESULT_DEPTH = 32;

/**
 * A copy of `value` as plain data: primitives, `bigint`, bytes and `Float64` as they are,
 * arrays and `Map`s element by element, any other object as a plain object of its own
 * enumerable fields (a class instance loses its prototype, as `structuredClone` does);
 * functions and symbols are left out. Nesting deeper than `MAX_RESULT_DEPTH` (or a cycle)
 * becomes `null`. The copy keeps an agent from mutating what a service returned, and keeps
 * outcomes recordable.
 */
export function toPlainResult(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'bigint') return value;
  if (t === 'function' || t === 'symbol') return undefined;
  if (depth >= MAX_RESULT_DEPTH) return null;
  if (isFloat64(value)) return value;
  // Plain objects first (nearly every result: a record, a lease), on their prototype.
  const proto: unknown = Object.getPrototypeOf(value);
  if ((proto === Object.prototype || proto === null) && cleanObjectProto()) return plainObjectCopy(value as Record<string, unknown>, depth);
  if (Array.isArray(value)) return value.map((v) => toPlainResult(v, depth + 1) ?? null);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof Map) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of value) m.set(k, toPlainResult(v, depth + 1));
    return m;
  }
  if (value instanceof Date) return value.getTime();
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value as object)) {
    const v = toPlainResult((value as Record<string, unknown>)[k], depth + 1);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * `toPlainResult` of a plain object: a spread (which keeps V8's fast properties: an object built
 * key by key turns into a slow dictionary past a dozen members, and a task record has twenty),
 * then each member replaced by its own copy in place. What the spread copies beyond
 * `Object.keys` (symbol keys) and members that copy to `undefined` are removed, as the
 * key-by-key copy leaves them out.
 */
function plainObjectCopy(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out = { ...value };
  let drop: string[] | undefined;
  for (const k in out) {
    const v = out[k];
    if (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol' && v !== undefined) continue;
    const c = toPlainResult(v, depth + 1);
    if (c === undefined) (drop ??= []).push(k);
    else out[k] = c;
  }
  if (drop !== undefined) for (const k of drop) delete out[k];
  if (Object.getOwnPropertySymbols(out).length > 0) return Object.fromEntries(Object.entries(out));
  return out;
}

/** Whether `Object.prototype` has no enumerable keys (nobody polluted it), so for-in sees own keys only. */
function cleanObjectProto(): boolean {
  for (const _ in Object.prototype) return false;
  return true;
}

/** The outcome of a decision that took effect. */
export function okOutcome(decision: Decision, result?: unknown): Outcome {
  const plain = toPlainResult(result);
  return plain === undefined ? { decision, status: 'ok' } : { decision, status: 'ok', result: plain };
}

/** The outcome of a decision that did not take effect because of `err` (status from `statusOfError` unless given). */
export function errorOutcome(decision: Decision, err: unknown, status: Exclude<OutcomeStatus, 'ok'> = statusOfError(err)): Outcome {
  return { decision, status, error: toOutcomeError(err) };
}
