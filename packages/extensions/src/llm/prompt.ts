// The parts of LLMAgent's JSON prompt: messages, tasks and outcomes as plain JSON, within a budget.
import { topicToString, type Message, type Task } from '@converge/core';
import { jsonSafe } from './tool-loop.js';

/** What identifies the tasks on offer for `callOnlyOnNewInput`: ids, states and attempts. */
export function tasksKeyOf(tasks: readonly Task[]): string {
  let key = '';
  for (const t of tasks) key += `${t.id}\u0000${t.state}\u0000${t.attempts}\u0001`;
  return key;
}

/** A message as plain JSON for the prompt. */
export function describeMessage(m: Message): unknown {
  return {
    id: m.id,
    sender: m.sender,
    recipient: m.recipient,
    topics: m.topics.map(topicToString),
    payload: jsonSafe(m.payload),
    taskId: m.taskId,
    timestamp: m.timestamp,
  };
}

/** A task as plain JSON for the prompt. */
export function describeTask(t: Task): unknown {
  return {
    id: t.id,
    objective: t.objective,
    inputs: jsonSafe(t.inputs),
    constraints: jsonSafe(t.constraints),
    state: t.state,
    poolId: t.poolId,
    requiredCapabilities: t.requiredCapabilities,
    attempts: t.attempts,
  };
}

// Outcomes worth a model call: all but a delivered SendMessage. Counting those too would make an
// agent that always answers with a message call its model again at once, forever (issue 21 M4).
/** The outcomes worth a model call: all but a delivered `SendMessage`. */
export function informativeOutcomes(outcomes: readonly unknown[] | undefined): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const o of outcomes ?? []) {
    if (!o || typeof o !== 'object') continue;
    const { decision, status } = o as { decision?: { type?: unknown }; status?: unknown };
    if (status === 'ok' && decision?.type === 'SendMessage') continue;
    out.push(o as Record<string, unknown>);
  }
  return out;
}

/** An outcome as plain JSON for the prompt. */
export function describeOutcome(o: Record<string, unknown>): unknown {
  const decision = o.decision as { type?: unknown; taskId?: unknown; tool?: unknown } | undefined;
  return jsonSafe({ decision: decision?.type, taskId: decision?.taskId, tool: decision?.tool, status: o.status, result: o.result, error: o.error });
}

/** Adds items while they fit the budget; returns them (as JSON text) and how many were left out. */
export function withinBudget(items: readonly unknown[], budget: { left: number }): [string[], number] {
  const out: string[] = [];
  for (const item of items) {
    const s = JSON.stringify(item);
    if (s.length + 2 > budget.left) break;
    budget.left -= s.length + 2;
    out.push(s);
  }
  return [out, items.length - out.length];
}
