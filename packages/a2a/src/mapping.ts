/**
 * What maps to what between A2A and Converge: an A2A message becomes a task's inputs, a task's
 * state becomes an A2A task state, its result an artifact; and back, for the client side.
 */
import { randomUUID } from 'node:crypto';
import { Role, TaskState, taskStateToJSON, type Artifact, type Message, type Part, type Task as A2ATask } from '@a2a-js/sdk';
import { isFloat64, type QueuedTask, type TaskState as ConvergeState, type WireRecord, type WireValue } from '@converge/core';

/** Key of the task inputs that holds the A2A side of a task (message and context ids). */
export const A2A_INPUT_KEY = 'a2a';

/** A value as JSON can carry it: bigints as strings, bytes as base64, `Float64` as its number, maps as objects. */
export function toJsonValue(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (depth > 32) return null;
  const t = typeof value;
  if (t === 'string' || t === 'boolean') return value;
  if (t === 'number') return Number.isFinite(value) ? value : null;
  if (t === 'bigint') return (value as bigint).toString();
  if (isFloat64(value)) return value.value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, depth + 1));
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJsonValue(v, depth + 1)]));
  if (t === 'object') return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, toJsonValue(v, depth + 1)]));
  return null;
}

/** JSON data as a wire value (plain objects become records; everything else is already one). */
export function fromJsonValue(value: unknown): WireValue {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(fromJsonValue);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, fromJsonValue(v)]));
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return null;
}

/** The text of a message's text parts, joined by newlines. */
export function textOf(parts: readonly Part[]): string {
  return parts.flatMap((p) => (p.content?.$case === 'text' ? [p.content.value] : [])).join('\n');
}

/**
 * The inputs of the Converge task an A2A message submits: the fields of every object data part
 * (merged, in order), `text` (the text parts), `files` (URL parts), and `a2a` (the message and
 * context ids, for the way back).
 */
export function inputsOfMessage(message: Message, contextId: string): WireRecord {
  const inputs: WireRecord = {};
  const data: WireValue[] = [];
  const files: WireValue[] = [];
  for (const p of message.parts) {
    const c = p.content;
    if (c?.$case === 'data') {
      if (c.value !== null && typeof c.value === 'object' && !Array.isArray(c.value)) Object.assign(inputs, fromJsonValue(c.value) as WireRecord);
      else data.push(fromJsonValue(c.value));
    } else if (c?.$case === 'url') files.push({ url: c.value, mediaType: p.mediaType, filename: p.filename });
    else if (c?.$case === 'raw') files.push({ bytes: new Uint8Array(c.value), mediaType: p.mediaType, filename: p.filename });
  }
  const text = textOf(message.parts);
  if (text.length > 0) inputs.text = text;
  if (data.length > 0) inputs.data = data;
  if (files.length > 0) inputs.files = files;
  inputs[A2A_INPUT_KEY] = { messageId: message.messageId, contextId };
  return inputs;
}

/** The context id recorded in a task's inputs (or `fallback`). */
export function contextIdOf(task: QueuedTask, fallback: string): string {
  const a = task.inputs[A2A_INPUT_KEY] as { contextId?: unknown } | undefined;
  return typeof a?.contextId === 'string' ? a.contextId : fallback;
}

/** The A2A state of a Converge task state. A retried task (pending again after an attempt) stays `working`. */
export function a2aStateOf(state: ConvergeState, attempts = 0): TaskState {
  switch (state) {
    case 'pending':
      return attempts > 0 ? TaskState.TASK_STATE_WORKING : TaskState.TASK_STATE_SUBMITTED;
    case 'assigned':
    case 'running':
      return TaskState.TASK_STATE_WORKING;
    case 'completed':
      return TaskState.TASK_STATE_COMPLETED;
    case 'failed':
      return TaskState.TASK_STATE_FAILED;
    case 'cancelled':
      return TaskState.TASK_STATE_CANCELED;
  }
}

/** Whether an A2A state is terminal (completed, failed, canceled, rejected). */
export function isTerminalA2AState(state: TaskState | undefined): boolean {
  return (
    state === TaskState.TASK_STATE_COMPLETED ||
    state === TaskState.TASK_STATE_FAILED ||
    state === TaskState.TASK_STATE_CANCELED ||
    state === TaskState.TASK_STATE_REJECTED
  );
}

/** Whether an A2A state stops a delegation this bridge cannot continue (terminal, input or auth required). */
export function isFinalForBridge(state: TaskState | undefined): boolean {
  return isTerminalA2AState(state) || state === TaskState.TASK_STATE_INPUT_REQUIRED || state === TaskState.TASK_STATE_AUTH_REQUIRED;
}

/** A text part. */
export function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: {} };
}

/** A data (JSON) part. */
export function dataPart(value: unknown): Part {
  return { content: { $case: 'data', value }, mediaType: 'application/json', filename: '', metadata: {} };
}

/** An agent message of `taskId` with one text part. */
export function agentMessage(taskId: string, contextId: string, text: string, messageId: string): Message {
  return { role: Role.ROLE_AGENT, messageId, taskId, contextId, parts: [textPart(text)], metadata: {}, extensions: [], referenceTaskIds: [] };
}

/** What `userMessage` takes besides the parts. */
export interface UserMessageOptions {
  /** The message id (a fresh UUID by default); the server's idempotency key. */
  messageId?: string;
  /** The conversation to continue (none by default). */
  contextId?: string;
  /** Message metadata (e.g. `{ skill }`). */
  metadata?: Message['metadata'];
}

/** A user message with `parts`, as a client sends it to start a task. */
export function userMessage(parts: Part[], options: UserMessageOptions = {}): Message {
  return {
    role: Role.ROLE_USER,
    messageId: options.messageId ?? randomUUID(),
    taskId: '',
    contextId: options.contextId ?? '',
    parts,
    metadata: options.metadata ?? {},
    extensions: [],
    referenceTaskIds: [],
  };
}

/** The artifact holding a completed task's result: a text part for a string, else a data part. */
export function resultArtifact(task: QueuedTask): Artifact {
  const r = task.result;
  return {
    artifactId: `${task.id}:result`,
    name: 'result',
    description: `result of Converge task ${task.id}`,
    parts: [typeof r === 'string' ? textPart(r) : dataPart(toJsonValue(r))],
    metadata: {},
    extensions: [],
  };
}

/** Why a task is not `completed`, as a human line (or `undefined`). */
export function statusTextOf(task: QueuedTask): string | undefined {
  if (task.state === 'failed') return `task failed${task.failureReason ? `: ${task.failureReason}` : ''}${task.deadLettered ? ' (dead-lettered)' : ''}`;
  if (task.state === 'cancelled') return 'task cancelled';
  return undefined;
}

/** Converge's view of a task, in the A2A task's metadata. */
export function taskMetadata(task: QueuedTask): Record<string, unknown> {
  return { convergeTaskId: task.id, poolId: task.poolId, convergeState: task.state, attempts: task.attempts };
}

/** The A2A task of a Converge task (no history: the request handler keeps that). */
export function a2aTaskOf(task: QueuedTask, contextId: string, history: Message[] = []): A2ATask {
  const text = statusTextOf(task);
  return {
    id: task.id,
    contextId,
    status: {
      state: a2aStateOf(task.state, task.attempts),
      message: text ? agentMessage(task.id, contextId, text, `${task.id}:status:${task.state}`) : undefined,
      timestamp: new Date(task.updatedAt).toISOString(),
    },
    artifacts: task.state === 'completed' ? [resultArtifact(task)] : [],
    history,
    metadata: taskMetadata(task),
  };
}

/** The value of a completed remote task: its artifacts' parts (one part: its value; text as a string, data as data). */
export function resultOfArtifacts(artifacts: readonly Artifact[]): WireValue {
  const values: WireValue[] = [];
  for (const a of artifacts) {
    for (const p of a.parts) {
      const c = p.content;
      if (c?.$case === 'text') values.push(c.value);
      else if (c?.$case === 'data') values.push(fromJsonValue(c.value));
      else if (c?.$case === 'url') values.push({ url: c.value, mediaType: p.mediaType });
      else if (c?.$case === 'raw') values.push(new Uint8Array(c.value));
    }
  }
  if (values.length === 0) return null;
  return values.length === 1 ? values[0]! : values;
}

/** The JSON name of an A2A state (`TASK_STATE_COMPLETED`, ...). */
export function stateName(state: TaskState | undefined): string {
  return state === undefined ? 'TASK_STATE_UNSPECIFIED' : taskStateToJSON(state);
}
