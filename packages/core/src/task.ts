import type { Topic } from './topic.js';
import type { WireRecord, WireValue } from './value.js';
import { uuid4 } from './uuid.js';
import { ValidationError } from './errors.js';

/** The states of a task. `completed`, `failed` and `cancelled` are terminal. */
export type TaskState = 'pending' | 'assigned' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Every task state, in lifecycle order. */
export const TASK_STATES: readonly TaskState[] = ['pending', 'assigned', 'running', 'completed', 'failed', 'cancelled'];

/** Whether a state is terminal (no transition leaves it). */
export function isTerminalState(state: TaskState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

/**
 * Constraint keys that the coordination layer enforces. Other keys are free-form.
 */
export interface TaskConstraints {
  [key: string]: WireValue | undefined;
  /** Lease length of a claim, in ms. */
  claimTtlMs?: number;
  /** How many failed attempts are retried before the task is dead-lettered. */
  maxRetries?: number;
  /** Absolute deadline, Unix ms: past it the task expires. */
  deadline?: number;
}

/** A unit of work offered to a pool. */
export interface Task {
  id: string;
  objective: string;
  inputs: WireRecord;
  outputs: WireRecord;
  constraints: TaskConstraints;
  /** Name of the evaluator that judges the result, if any. */
  evaluator: string | null;
  state: TaskState;
  /** Fingerprint of the agent holding the task. */
  assignedTo: string | null;
  result: WireValue;
  /** Unix ms of the current claim. */
  claimedAt: number | null;
  poolId: string | null;
  topic: Topic | null;
  requiredCapabilities: string[];
  /** Number of claims so far (the lease attempt counter). */
  attempts: number;
}

/** Fields accepted by `createTask`; everything but `objective` has a default. */
export type TaskInit = Partial<Task> & { objective: string };

/** Builds a task with defaults: a UUID v4 id, state `pending`, no assignee, attempts 0. */
export function createTask(fields: TaskInit): Task {
  if (typeof fields.objective !== 'string') throw new ValidationError('task objective must be a string');
  return {
    id: fields.id ?? uuid4(),
    objective: fields.objective,
    inputs: { ...(fields.inputs ?? {}) },
    outputs: { ...(fields.outputs ?? {}) },
    constraints: { ...(fields.constraints ?? {}) },
    evaluator: fields.evaluator ?? null,
    state: fields.state ?? 'pending',
    assignedTo: fields.assignedTo ?? null,
    result: fields.result ?? null,
    claimedAt: fields.claimedAt ?? null,
    poolId: fields.poolId ?? null,
    topic: fields.topic ?? null,
    requiredCapabilities: [...(fields.requiredCapabilities ?? [])],
    attempts: fields.attempts ?? 0,
  };
}
