import type { Agent, DecideContext, Decision, Message, MessageInit, Outcome, Store, Task, WireRecord } from '@converge/core';
import { TRACE_KEY, type Logger, type MetricCounter, type Metrics, type TraceContext } from '@converge/core';
import type { ExecutionContext, ExecutionResult, Executor } from './executor.js';
import { taskTraceCarrier } from './task-trace.js';
import { statusOfResult } from './outcomes.js';

/** What the runtime needs of a discovery service (`DiscoveryService` from `@converge/network`). */
export interface DiscoveryPort {
  /** Registers (or replaces) the agent's descriptor. */
  register(descriptor: {
    id: string;
    publicKey: Uint8Array | Agent['identity'];
    topics: Agent['topics'];
    capabilities: ReturnType<Agent['capabilities']['toJSON']>;
    endpoints?: string[];
    metadata?: WireRecord;
  }): unknown;
  /** Removes the agent. */
  unregister(id: string): unknown;
  /** Extends the registration (registrations expire without it); called every `discoveryRefreshMs`. */
  refresh?(id: string): unknown;
}

/** What the runtime needs to vet incoming messages (`MessageVerifier` from `@converge/network`). */
export interface VerifierPort {
  /** Whether the message may be delivered, and why not. */
  check(message: Message): { ok: boolean; reason?: string };
}

/** What the runtime records to a replay log (`ReplayLog` from `@converge/observability`). */
export interface ReplayPort {
  /** Records an accepted incoming message. */
  recordMessage(message: Message): unknown;
  /**
   * Records one `decide` call: its inputs, the tasks offered, the decisions made and the
   * outcomes (of the previous turn) it was given.
   */
  recordDecisions(agentId: string, decisions: readonly Decision[], inputs: readonly Message[], tasks?: readonly Task[], outcomes?: readonly Outcome[]): unknown;
}

/** The part of a span the runtime touches (an OpenTelemetry `Span` fits). */
export interface SpanHandle {
  setAttribute(key: string, value: string | number | boolean): unknown;
  recordException(exception: Error): unknown;
}

/**
 * Wraps work in a tracing span: `withSpan` from `@converge/observability` (or the `withSpan`
 * of a `createTracing()` object) fits as is. The span records an exception if `fn` throws.
 */
export type SpanRunner = <T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  fn: (span?: SpanHandle) => Promise<T>,
  options?: { parent?: TraceContext },
) => Promise<T>;

/**
 * Trace context carried in messages (`createTracing()` from `@converge/observability` fits):
 * outgoing messages get the active context, incoming ones give the parent of the turn's spans.
 */
export interface TraceContextPort {
  /** `init` with the active trace context added (under `payload._trace`), before signing. */
  attachTraceContext(init: MessageInit): MessageInit;
  /** The context a message carries. */
  traceContextOf(message: Message): TraceContext;
}

/** An agent that can save and restore its own state (plain data). */
export interface Checkpointable {
  /** The agent's state, as plain data a `Store` can hold. */
  snapshot(): unknown;
  /** Puts back a state `snapshot()` returned. */
  restore(state: unknown): void | Promise<void>;
}

/** The optional services the runtime reports to. */
export interface RuntimeHooksOptions {
  discovery?: DiscoveryPort;
  /** Endpoints advertised in discovery (e.g. `['tcp://10.0.0.5:7000']`). */
  endpoints?: string[];
  /** Metadata advertised in discovery (plain data). */
  metadata?: WireRecord;
  /** Checks every incoming message; rejected ones are counted and logged, never delivered. */
  verifier?: VerifierPort;
  /**
   * Wraps decide and execute in spans (`agent.decide`, `agent.execute`); each decision's
   * outcome is a child span of `agent.execute` (`agent.outcome`).
   */
  tracer?: SpanRunner;
  /**
   * Carries trace context in messages through this implementation (e.g. `createTracing()` of
   * `@converge/observability`, which uses the global OpenTelemetry setup). Outgoing messages of
   * the default executor carry the active context; the first incoming message of a turn that
   * carries one is the parent of the turn's spans. Default off (payloads are left as they are).
   */
  propagateTraceContext?: TraceContextPort;
  replayLog?: ReplayPort;
  checkpointStore?: Store;
  logger?: Logger;
  metrics?: Metrics;
}

function isCheckpointable(agent: unknown): agent is Checkpointable {
  return typeof (agent as Checkpointable).snapshot === 'function' && typeof (agent as Checkpointable).restore === 'function';
}

/** Whether a message's payload carries a trace context entry. */
export function carriesTraceContext(message: Message): boolean {
  const p = message.payload;
  if (p instanceof Map) return p.has(TRACE_KEY);
  return p !== null && typeof p === 'object' && !Array.isArray(p) && !(p instanceof Uint8Array) && Object.prototype.hasOwnProperty.call(p, TRACE_KEY);
}

/**
 * The runtime's side concerns, kept out of its loop: verification, discovery, checkpoints,
 * replay recording, spans, error and metric accounting.
 */
export class RuntimeHooks {
  readonly #agent: Agent;
  readonly #o: RuntimeHooksOptions;
  readonly #trace: TraceContextPort | undefined;
  readonly #counters = new Map<string, MetricCounter>();
  readonly #errors = new Map<string, number>();
  #registered = false;
  #rejected = 0;

  /** @param trace - resolved trace-context propagation (the runtime loads the global one for `true`). */
  constructor(agent: Agent, options: RuntimeHooksOptions, trace?: TraceContextPort) {
    this.#agent = agent;
    this.#o = options;
    this.#trace = trace;
    // Every counter is registered up front, so a scrape (and docs/METRICS.md) lists them all.
    if (options.metrics) for (const [name, labels] of Object.entries(RUNTIME_COUNTER_LABELS)) this.counter(name, [...labels]);
  }

  /** Errors so far by stage (decide, execute, receive, …). */
  get errors(): ReadonlyMap<string, number> {
    return this.#errors;
  }

  /** Incoming messages the verifier rejected. */
  get rejected(): number {
    return this.#rejected;
  }

  /** Whether the agent is registered in discovery now. */
  get registered(): boolean {
    return this.#registered;
  }

  /** Restores the checkpoint (if any) and registers in discovery. */
  async onStart(): Promise<void> {
    const { discovery, checkpointStore } = this.#o;
    if (checkpointStore && isCheckpointable(this.#agent)) {
      const state = await checkpointStore.get(this.#checkpointKey());
      if (state !== undefined) await this.#agent.restore(state);
    }
    if (discovery) await this.#register();
  }

  /** Renews the discovery registration (re-registers if it expired meanwhile). */
  async refreshDiscovery(): Promise<void> {
    const d = this.#o.discovery;
    if (!d || !this.#registered) return;
    try {
      if (d.refresh) {
        await d.refresh(this.#agent.id);
        return;
      }
    } catch {
      // Expired or lost (e.g. a discovery restart): register afresh below.
    }
    await this.#register();
  }

  async #register(): Promise<void> {
    await this.#o.discovery!.register({
      id: this.#agent.id,
      publicKey: this.#agent.identity, // discovery signs the descriptor with it (self-certifying)
      topics: this.#agent.topics,
      capabilities: this.#agent.capabilities.toJSON(),
      endpoints: this.#o.endpoints ?? [],
      ...(this.#o.metadata ? { metadata: this.#o.metadata } : {}),
    });
    this.#registered = true;
  }

  /** Unregisters from discovery; errors are logged and counted. */
  async unregister(): Promise<void> {
    try {
      if (this.#registered) await this.#o.discovery?.unregister(this.#agent.id);
      this.#registered = false;
    } catch (err) {
      this.error('unregister', err);
    }
  }

  /** Saves the agent's snapshot, if it has one and a checkpoint store is configured. */
  async checkpoint(): Promise<void> {
    if (this.#o.checkpointStore && isCheckpointable(this.#agent)) {
      await this.#o.checkpointStore.put(this.#checkpointKey(), this.#agent.snapshot() as never);
    }
  }

  /** Vets an incoming message; returns whether it may be delivered to the agent. */
  accept(message: Message): boolean {
    // A message signed for another agent and injected here (issue 21 H2) never reaches decide,
    // whether or not a verifier is configured; broadcast and topic messages (null) pass.
    if (message.recipient !== null && message.recipient !== this.#agent.id) return this.#reject(message, 'wrong_recipient');
    if (this.#o.verifier) {
      const verdict = this.#o.verifier.check(message);
      if (!verdict.ok) return this.#reject(message, verdict.reason ?? 'unknown');
    }
    if (this.#o.replayLog) {
      try {
        this.#o.replayLog.recordMessage(message);
      } catch (err) {
        this.error('replay', err);
      }
    }
    this.count('converge_runtime_messages_received_total', {});
    return true;
  }

  #reject(message: Message, reason: string): false {
    this.#rejected++;
    this.count('converge_runtime_messages_rejected_total', { reason });
    this.#o.logger?.warn({ agentId: this.#agent.id, messageId: message.id, sender: message.sender, recipient: message.recipient, reason }, 'message rejected');
    return false;
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
    const attrs = { 'converge.agent': this.#agent.id, 'converge.messages': messages.length, 'converge.tasks': tasks.length, 'converge.outcomes': context.outcomes.length };
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
      this.error('replay', err);
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
      if (span) {
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
      return results;
    };
    const attrs = { 'converge.agent': this.#agent.id, 'converge.decisions': decisions.length };
    return parent ? tracer('agent.execute', attrs, run, { parent }) : tracer('agent.execute', attrs, run);
  }

  /** Logs and counts an error of one stage; the loop goes on. */
  error(stage: string, err: unknown): void {
    this.#errors.set(stage, (this.#errors.get(stage) ?? 0) + 1);
    this.count('converge_runtime_errors_total', { stage });
    this.#o.logger?.error({ agentId: this.#agent.id, stage, err }, `runtime ${stage} failed`);
  }

  /** Increments a counter of the runtime's (no-op without a metrics collector). */
  count(name: string, labels: Record<string, string>, value = 1): void {
    const c = this.counter(name, Object.keys(labels));
    c?.inc(labels, value);
  }

  /** The counter `name` (created on first use with its help text), or `undefined` without metrics. */
  counter(name: string, labelNames: string[]): MetricCounter | undefined {
    const metrics = this.#o.metrics;
    if (!metrics) return undefined;
    let c = this.#counters.get(name);
    if (!c) {
      c = metrics.counter({ name, help: HELP[name] ?? name, labelNames });
      this.#counters.set(name, c);
    }
    return c;
  }

  #checkpointKey(): string {
    return `checkpoint:${this.#agent.id}`;
  }
}

/** Label names of the runtime's counters (registered up front when the runtime has `metrics`). */
export const RUNTIME_COUNTER_LABELS: Readonly<Record<string, readonly string[]>> = {
  converge_runtime_errors_total: ['stage'],
  converge_runtime_messages_received_total: [],
  converge_runtime_messages_rejected_total: ['reason'],
  converge_inbox_dropped_total: ['reason'],
  converge_runtime_decisions_refused_total: ['reason'],
  converge_runtime_lease_events_total: ['event'],
  converge_runtime_claims_returned_total: [],
  converge_runtime_outcomes_dropped_total: [],
  converge_taskmanager_events_total: ['event'],
};

/** Help texts of the runtime's metrics (see the package README). */
export const RUNTIME_METRICS_HELP: Readonly<Record<string, string>> = {
  converge_runtime_errors_total: 'Errors in the agent runtime loop, by stage; the loop goes on',
  converge_runtime_messages_received_total: 'Messages accepted into agent inboxes',
  converge_runtime_messages_rejected_total: 'Incoming messages the runtime refused (recipient, verification), by reason',
  converge_inbox_dropped_total: 'Messages an inbox dropped, by reason (drop-oldest, drop-newest, too-large, stopped, decide_failed)',
  converge_runtime_decisions_refused_total: 'Decisions the runtime refused before execution, by reason (turn_cap)',
  converge_runtime_lease_events_total: 'Task lease heartbeats, by event (renewed, lost)',
  converge_runtime_claims_returned_total: 'Claims handed back to pending by a stopping runtime',
  converge_runtime_outcomes_dropped_total: 'Decision outcomes dropped because more were waiting for an agent than maxOutcomes (oldest first)',
  converge_taskmanager_events_total: 'Counters of the TaskManager the runtime drives (TaskManager.stats()), by event',
};
const HELP = RUNTIME_METRICS_HELP;
