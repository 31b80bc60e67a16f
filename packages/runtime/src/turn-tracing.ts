import { TRACE_KEY, type Agent, type DecideContext, type Decision, type Message, type Outcome, type Task, type TraceContext } from '@converge/core';
import type { ExecutionContext, ExecutionResult, Executor } from './executor.js';
import type { ReplayPort, SpanHandle, SpanRunner, TraceContextPort } from './service-ports.js';
import { taskTraceCarrier } from './task-trace.js';
import { statusOfResult } from './outcomes.js';

/** What `TurnTracing` records to. */
export interface TurnTracingOptions {
  /** Wraps decide and execute in spans. */
  tracer?: SpanRunner;
  /** Records each `decide` call. */
  replayLog?: ReplayPort;
}

/** Whether a message's payload carries a trace context entry. */
export function carriesTraceContext(message: Message): boolean {
  const p = message.payload;
  if (p instanceof Map) return p.has(TRACE_KEY);
  return p !== null && typeof p === 'object' && !Array.isArray(p) && !(p instanceof Uint8Array) && Object.prototype.hasOwnProperty.call(p, TRACE_KEY);
}

/**
 * What a turn leaves behind for observers: spans around `decide` and `execute` (one child
 * span per decision's outcome) when a tracer is given, and a replay record of each `decide`.
 */
export class TurnTracing {
  readonly #agent: Agent;
  readonly #o: TurnTracingOptions;
  readonly #trace: TraceContextPort | undefined;
  readonly #onError: (stage: string, err: unknown) => void;

  /** @param onError - counts and logs a failure to record (never fatal). */
  constructor(agent: Agent, options: TurnTracingOptions, trace: TraceContextPort | undefined, onError: (stage: string, err: unknown) => void) {
    this.#agent = agent;
    this.#o = options;
    this.#trace = trace;
    this.#onError = onError;
  }

  /**
   * The trace context a turn's spans take as parent: the first input message that carries one,
   * else the first task offered that carries one (`constraints._trace`, see `attachTaskTrace`).
   */
  parentOf(messages: readonly Message[], tasks: readonly Task[] = []): TraceContext | undefined {
    if (!this.#trace || !this.#o.tracer) return undefined;
    for (const m of messages) if (carriesTraceContext(m)) return this.#trace.traceContextOf(m);
    for (const t of tasks) {
      const carrier = taskTraceCarrier(t);
      if (carrier) return this.#trace.traceContextOf(carrier);
    }
    return undefined;
  }

  /** Calls the agent's `decide` (with `context`: the previous turn's outcomes), inside a span when tracing is on. */
  decide(messages: readonly Message[], tasks: readonly Task[], context: DecideContext, parent?: TraceContext): Promise<Decision[]> {
    const run = async () => await this.#agent.decide(messages, tasks, context);
    const { tracer } = this.#o;
    if (!tracer) return run();
    const attrs = {
      'converge.agent': this.#agent.id,
      'converge.messages': messages.length,
      'converge.tasks': tasks.length,
      'converge.outcomes': context.outcomes.length,
    };
    return parent ? tracer('agent.decide', attrs, run, { parent }) : tracer('agent.decide', attrs, run);
  }

  /** Records a `decide` call for replay (a failure to record is logged and counted, never fatal). */
  record(decisions: readonly Decision[], inputs: readonly Message[], tasks: readonly Task[], outcomes: readonly Outcome[] = []): void {
    const log = this.#o.replayLog;
    if (!log || (decisions.length === 0 && inputs.length === 0 && tasks.length === 0 && outcomes.length === 0)) return;
    try {
      // Outcomes only when there are some: a log of an agent that never gets any stays as it was.
      if (outcomes.length > 0) log.recordDecisions(this.#agent.id, decisions, inputs, tasks, outcomes);
      else log.recordDecisions(this.#agent.id, decisions, inputs, tasks);
    } catch (err) {
      this.#onError('replay', err);
    }
  }

  /**
   * Runs the executor on a batch, inside a span when tracing is on; decisions that failed
   * with an error are recorded on the span as exceptions.
   */
  execute(executor: Executor, decisions: Decision[], ctx: ExecutionContext, parent?: TraceContext): Promise<ExecutionResult[]> {
    const { tracer } = this.#o;
    if (!tracer) return executor.execute(decisions, ctx);
    const run = async (span?: SpanHandle) => {
      const results = await executor.execute(decisions, ctx);
      if (span) await this.#outcomeSpans(tracer, span, results);
      return results;
    };
    const attrs = { 'converge.agent': this.#agent.id, 'converge.decisions': decisions.length };
    return parent ? tracer('agent.execute', attrs, run, { parent }) : tracer('agent.execute', attrs, run);
  }

  async #outcomeSpans(tracer: SpanRunner, span: SpanHandle, results: readonly ExecutionResult[]): Promise<void> {
    let failed = 0;
    for (const r of results) {
      if (r.ok) continue;
      failed++;
      if (r.outcome === 'error' || r.outcome === 'unknown') span.recordException(r.error);
    }
    span.setAttribute('converge.failed', failed);
    // One child span per decision (inside this span's active context), so a trace shows
    // what became of each decision, not only how many failed.
    for (const r of results) {
      const status = statusOfResult(r);
      const type = typeof r.decision?.type === 'string' ? r.decision.type : '_invalid';
      await tracer('agent.outcome', { 'converge.agent': this.#agent.id, 'converge.decision': type, 'converge.outcome': status }, async (child) => {
        if (!r.ok && status !== 'conflict' && status !== 'refused') child?.recordException(r.error);
      });
    }
  }
}
