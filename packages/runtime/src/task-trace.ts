import { TRACE_KEY, type Message, type Task, type TaskInit, type WireValue } from '@converge/core';
import type { TraceContextPort } from './service-ports.js';

/**
 * `task` with the active trace context under `constraints._trace` (`{ traceparent, tracestate? }`,
 * a free-form constraint key), so that the turn of the worker that is offered the task continues
 * the submitter's trace. Without an active span, `task` as it is.
 */
export function attachTaskTrace(task: TaskInit, trace: TraceContextPort): TaskInit {
  const carrier = (trace.attachTraceContext({ payload: {} }).payload as Record<string, WireValue> | undefined)?.[TRACE_KEY];
  if (carrier === undefined || task === null || typeof task !== 'object') return task;
  return { ...task, constraints: { ...(task.constraints ?? {}), [TRACE_KEY]: carrier } };
}

/** The trace context a task carries under `constraints._trace` (see `attachTaskTrace`), as a message-shaped carrier, or `undefined`. */
export function taskTraceCarrier(task: Task): Message | undefined {
  const c = task.constraints?.[TRACE_KEY];
  if (c === undefined || c === null || typeof c !== 'object') return undefined;
  return { payload: { [TRACE_KEY]: c } } as unknown as Message;
}
