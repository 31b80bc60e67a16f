import {
  AbortError,
  ConflictError,
  LimitExceededError,
  PolicyError,
  TimeoutError,
  ValidationError,
  createMessage,
  signMessage,
  isCoreDecision,
  throwIfAborted,
  CORE_DECISION_TYPES,
  type CoreDecision,
  type Decision,
  type DecisionPolicy,
  type MessageInit,
  type TaskInit,
  type ToolRegistry,
  type WireValue,
} from '@converge/core';
import type { Transport } from '@converge/core';
import type { Logger, MetricCounter, Metrics } from '@converge/core';
import type { TaskLease } from '@converge/core';
import type { BallotsPort, BiddingPort, DelegationPort, NegotiationPort, PoolManagerPort, TaskManagerPort } from './ports.js';
import type { DecisionHandler, ExecutionContext, ExecutionResult, Executor } from './executor.js';
import { NotConfiguredError, SkippedDecisionError, UnknownDecisionError } from './errors.js';
import { EndpointGuard } from './endpoint-guard.js';

/**
 * The limits the executor enforces: the subset of `ResourceLimits` (from `@converge/policy`)
 * it calls, so a `ResourceLimits` is passed as is.
 */
export interface ExecutorLimits {
  /** Waits for (or refuses, with `LimitExceededError`) a tool slot; returns the function that frees it. */
  acquireToolSlot(options?: { signal?: AbortSignal }): Promise<() => void>;
  /** Takes one message token if available (token bucket); `false` refuses the send. */
  tryConsumeMessage(): boolean;
  /**
   * Throws (a `PolicyError`, e.g. `TaskResourcesError`) when a task's constraints (`cpu`,
   * `memory_mb`) ask for more than this agent gives one task; called before a submit and a claim.
   */
  checkTaskResources?(constraints: Readonly<Record<string, unknown>> | null | undefined): void;
}

/** Options of `StandardExecutor`. */
export interface StandardExecutorOptions {
  /** Where `SendMessage` decisions go. */
  transport?: Transport;
  taskManager?: TaskManagerPort;
  poolManager?: PoolManagerPort;
  negotiation?: NegotiationPort;
  bidding?: BiddingPort;
  ballots?: BallotsPort;
  delegation?: DelegationPort;
  /** Tools available to `InvokeTool`. */
  tools?: ToolRegistry;
  /** Tools an agent may invoke; empty (the default) allows none. */
  toolAllowlist?: readonly string[];
  /**
   * Endpoints (`"host:port"`) a `SendMessage` may route to through a `transport.tcp` topic,
   * beside the recipient's address in the transport's address book (learnt from discovery or
   * configured); `'*'` allows any. Default none: a message naming another endpoint is refused
   * (`EndpointNotAllowedError`, outcome `refused`, `converge_executor_endpoints_refused_total`).
   */
  allowEndpoints?: readonly string[];
  /** Per-call tool timeout, ms (default 30,000). */
  toolTimeoutMs?: number;
  /** The safety policy every decision passes first (e.g. an `ActionPolicy`). */
  policy?: DecisionPolicy;
  /** Rate and concurrency limits (e.g. a `ResourceLimits`). */
  limits?: ExecutorLimits;
  /** Adds to each outgoing message before it is signed (e.g. trace context). */
  decorateMessage?: (init: MessageInit) => MessageInit;
  /** Adds to each submitted task before it is stored (e.g. trace context under `constraints._trace`). */
  decorateTask?: (task: TaskInit) => TaskInit;
  logger?: Logger;
  metrics?: Metrics;
}

/** The core decision types (a Set: looked up for every decision). */
const CORE_TYPES: ReadonlySet<string> = new Set(CORE_DECISION_TYPES);

/** Decisions executed back to back before `execute` yields to the event loop (*fixed*). */
export const EXECUTE_YIELD_EVERY = 64;

/** Default tool call timeout, ms. */
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;

type Handlers = { [K in CoreDecision['type']]: (d: Extract<CoreDecision, { type: K }>, ctx: ExecutionContext) => Promise<unknown> };

/**
 * Executes every core decision type, coordination decisions through the configured
 * protocols, and custom types registered with `register`. Each decision passes the safety
 * policy first; a refused, failed or unknown decision is logged and counted
 * (`converge_decisions_total{type,outcome}`) and the batch goes on. A failed `ClaimTask`
 * makes later decisions of the batch on the same task skip (they would act on a task the
 * agent does not hold).
 */
export class StandardExecutor implements Executor {
  readonly #o: StandardExecutorOptions;
  readonly #custom = new Map<string, DecisionHandler>();
  readonly #core: Handlers;
  readonly #allowedTools: ReadonlySet<string>;
  readonly #decisions: MetricCounter | undefined;
  readonly #stats = new Map<string, Map<string, number>>();
  readonly #endpoints: EndpointGuard;
  readonly #endpointsRefused: MetricCounter | undefined;

  /** @param options - the services decisions are carried out with; each is optional. */
  constructor(options: StandardExecutorOptions = {}) {
    this.#o = options;
    this.#allowedTools = new Set(options.toolAllowlist ?? []);
    this.#decisions = options.metrics?.counter({
      name: 'converge_decisions_total',
      help: 'Decisions executed, by type and outcome',
      labelNames: ['type', 'outcome'],
    });
    this.#endpoints = new EndpointGuard(options.allowEndpoints);
    this.#endpointsRefused = options.metrics?.counter({
      name: 'converge_executor_endpoints_refused_total',
      help: 'Messages refused for routing to an endpoint not allowed',
      labelNames: [],
    });
    this.#core = this.#coreHandlers();
  }

  /** Registers the handler of a custom decision type (core types cannot be replaced). */
  register(type: string, handler: DecisionHandler): this {
    if (isCoreDecision({ type } as Decision)) throw new ValidationError(`${type} is a core decision type`);
    this.#custom.set(type, handler);
    return this;
  }

  /**
   * Decisions executed so far by `type:outcome` (outcome: ok, refused, conflict, error, unknown,
   * skipped; types not core nor registered are counted as `_unknown`, malformed ones as `_invalid`).
   */
  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [type, byOutcome] of this.#stats) for (const [outcome, n] of byOutcome) out[`${type}:${outcome}`] = n;
    return out;
  }

  /**
   * Executes `decisions` in order and returns one result per decision. Never throws for a
   * decision's failure: each is logged, counted and returned as `ok: false`.
   */
  async execute(decisions: readonly Decision[], context: ExecutionContext): Promise<ExecutionResult[]> {
    const n = decisions.length;
    const results = new Array<ExecutionResult>(n);
    // Allocated on the first failed claim only: most batches lose none.
    let lostTasks: Set<string> | undefined;
    const signal = context.signal;
    for (let i = 0; i < n; i++) {
      // Decisions that all resolve as microtasks (in-memory services) would hold the event loop
      // for the whole batch: timers, sockets and other agents get a turn every YIELD_EVERY.
      if (i > 0 && i % EXECUTE_YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const decision = decisions[i]!;
      // Once the context's signal aborts (a halt, or a stop past its grace period), the rest
      // of the batch is skipped, not half-done.
      const result: ExecutionResult = signal?.aborted
        ? { decision, ok: false, outcome: 'skipped', error: new AbortError('the runtime stopped before this decision ran', { cause: signal.reason }) }
        : await this.#executeOne(decision, context, lostTasks);
      results[i] = result;
      const outcome = result.ok ? 'ok' : result.outcome;
      this.#count(this.#typeLabel(decision), outcome);
      if (!result.ok) {
        const taskId = (decision as { taskId?: unknown } | null)?.taskId;
        if (decision?.type === 'ClaimTask' && typeof taskId === 'string') (lostTasks ??= new Set()).add(taskId);
        const level = result.outcome === 'error' || result.outcome === 'unknown' ? 'warn' : 'debug';
        this.#o.logger?.[level]({ agentId: context.agentId, decisionType: decision?.type, outcome, err: result.error }, 'decision not executed');
      }
    }
    return results;
  }

  async #executeOne(decision: Decision, ctx: ExecutionContext, lostTasks: Set<string> | undefined): Promise<ExecutionResult> {
    if (!decision || typeof decision !== 'object' || typeof decision.type !== 'string') {
      return { decision, ok: false, outcome: 'error', error: new ValidationError('a decision is an object with a string type') };
    }
    const taskId = (decision as { taskId?: unknown }).taskId;
    if (lostTasks !== undefined && typeof taskId === 'string' && lostTasks.has(taskId) && decision.type !== 'ClaimTask') {
      return { decision, ok: false, outcome: 'skipped', error: new SkippedDecisionError(`task ${taskId} was not claimed in this batch`) };
    }
    try {
      // Inside the try: a policy that throws refuses nothing silently and crashes nothing.
      const policy = this.#o.policy;
      if (policy !== undefined) {
        const verdict = policy.check(decision);
        if (verdict && !verdict.allowed) {
          return { decision, ok: false, outcome: 'refused', error: new PolicyError(`decision ${decision.type} refused: ${verdict.reason ?? 'by policy'}`) };
        }
      }
      if (CORE_TYPES.has(decision.type)) {
        const handler = this.#core[decision.type as CoreDecision['type']] as (d: Decision, c: ExecutionContext) => Promise<unknown>;
        return { decision, ok: true, value: await handler(decision, ctx) };
      }
      const custom = this.#custom.get(decision.type);
      if (!custom) return { decision, ok: false, outcome: 'unknown', error: new UnknownDecisionError(decision.type) };
      return { decision, ok: true, value: await custom(decision, ctx) };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      // A conflict (a claim race lost, a vote cast twice, a move after a terminal state) is the
      // normal friction of peers sharing state, not a fault: counted apart, logged at debug.
      const outcome = PolicyError.is(error) ? 'refused' : ConflictError.is(error) ? 'conflict' : 'error';
      return { decision, ok: false, outcome, error };
    }
  }

  // Metric labels stay bounded: core and registered types by name, anything else (an agent
  // can return any string) as one `_unknown` (or `_invalid`) series.
  #typeLabel(decision: Decision): string {
    const type = (decision as { type?: unknown } | null)?.type;
    if (typeof type !== 'string') return '_invalid';
    return CORE_TYPES.has(type) || this.#custom.has(type) ? type : '_unknown';
  }

  #count(type: string, outcome: string): void {
    // Counted by type, then outcome: no `type:outcome` string is built (and hashed) per decision.
    let byOutcome = this.#stats.get(type);
    if (byOutcome === undefined) this.#stats.set(type, (byOutcome = new Map<string, number>()));
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    this.#decisions?.inc({ type, outcome });
  }

  #need<T>(service: T | undefined, what: string): T {
    if (service === undefined) throw new NotConfiguredError(what);
    return service;
  }

  #coreHandlers(): Handlers {
    return { ...this.#messageAndPoolHandlers(), ...this.#taskHandlers(), ...this.#protocolHandlers() };
  }

  #messageAndPoolHandlers(): Pick<Handlers, 'SendMessage' | 'JoinPool' | 'LeavePool' | 'CreatePool' | 'InvokeTool'> {
    const pools = () => this.#need(this.#o.poolManager, 'a pool manager');
    return {
      SendMessage: (d, ctx) => this.#sendMessage(d, ctx),
      JoinPool: (d, ctx) => pools().joinPool(ctx.agentId, d.poolId, d.context),
      LeavePool: (d, ctx) => pools().leavePool(ctx.agentId, d.poolId),
      CreatePool: async (d, ctx) => {
        // The deciding agent owns what it creates, whatever owner the decision names.
        const pool = await pools().createPool({ ...d.pool, owner: ctx.agentId });
        await pools().joinPool(ctx.agentId, pool.id);
        return pool;
      },
      InvokeTool: (d, ctx) => this.#invokeTool(d.tool, d.params, d.timeoutMs, ctx),
    };
  }

  async #sendMessage(d: Extract<CoreDecision, { type: 'SendMessage' }>, ctx: ExecutionContext): Promise<string> {
    const o = this.#o;
    const transport = this.#need(o.transport, 'a transport');
    if (o.limits && !o.limits.tryConsumeMessage()) throw new LimitExceededError('message rate limit reached');
    let init: MessageInit = { recipient: d.recipient, payload: d.payload, topics: d.topics ?? [], taskId: d.taskId ?? null, sender: ctx.agentId };
    if (o.decorateMessage) init = o.decorateMessage(init);
    const message = signMessage(createMessage(init), ctx.identity);
    try {
      this.#endpoints.check(message, transport);
    } catch (err) {
      this.#endpointsRefused?.inc();
      throw err;
    }
    await transport.send(message, { signal: ctx.signal });
    return message.id;
  }

  #taskHandlers(): Pick<Handlers, 'SubmitTask' | 'ClaimTask' | 'ReportTask' | 'FailTask' | 'CancelTask'> {
    const o = this.#o;
    const tasks = () => this.#need(o.taskManager, 'a task manager');
    return {
      SubmitTask: async (d, ctx) => {
        o.limits?.checkTaskResources?.(d.task?.constraints);
        return tasks().submit(o.decorateTask ? o.decorateTask(d.task) : d.task, { by: ctx.agentId });
      },
      ClaimTask: async (d, ctx) => {
        if (o.limits?.checkTaskResources) await this.#checkClaimable(d.taskId, o.limits);
        const lease = await tasks().claim(ctx.agentId, d.taskId, { capabilities: ctx.capabilities ?? [] });
        ctx.leases.set(d.taskId, lease);
        return lease;
      },
      ReportTask: (d, ctx) => asHolder(ctx, d.taskId, (lease) => tasks().report(ctx.agentId, d.taskId, d.result, lease)),
      FailTask: (d, ctx) => asHolder(ctx, d.taskId, (lease) => tasks().fail(d.taskId, d.reason, ctx.agentId, lease)),
      CancelTask: async (d, ctx) => {
        const r = await tasks().cancel(d.taskId, { by: ctx.agentId });
        ctx.leases.delete(d.taskId);
        return r;
      },
    };
  }

  #protocolHandlers(): Pick<Handlers, 'SubmitBid' | 'Vote' | 'Propose' | 'AcceptProposal' | 'RejectProposal' | 'Delegate' | 'RevokeDelegation'> {
    const o = this.#o;
    const negotiation = () => this.#need(o.negotiation, 'a negotiation protocol');
    const delegation = () => this.#need(o.delegation, 'a delegation protocol');
    return {
      SubmitBid: async (d, ctx) => this.#need(o.bidding, 'a bidding protocol').bid(d.auctionId, ctx.agentId, d.amount),
      Vote: async (d, ctx) => {
        // A vote on a pool question goes to the pool manager (its governance decides); the
        // outcome's result is the question after the vote.
        const pm = o.poolManager;
        if (pm?.vote && pm.hasQuestion?.(d.ballotId) === true) return pm.vote(d.ballotId, ctx.agentId, d.choice, d.weight);
        return this.#need(o.ballots, 'ballots').vote(d.ballotId, ctx.agentId, d.choice, d.weight);
      },
      Propose: async (d, ctx) =>
        d.sessionId ? negotiation().counter(d.sessionId, ctx.agentId, d.terms) : negotiation().propose(ctx.agentId, d.participants, d.terms),
      AcceptProposal: async (d, ctx) => negotiation().accept(d.sessionId, ctx.agentId),
      RejectProposal: async (d, ctx) => negotiation().reject(d.sessionId, ctx.agentId, d.reason),
      Delegate: async (d, ctx) => delegation().delegate(ctx.agentId, d.delegatee, { actions: d.actions, expiresAt: d.expiresAt ?? null }),
      RevokeDelegation: async (d, ctx) => delegation().revoke(d.delegationId, ctx.agentId),
    };
  }

  // Before a claim, not after: a task this agent cannot hold is never claimed (no attempt is
  // spent, no lease taken), and the refusal comes back to the agent as a `refused` outcome.
  async #checkClaimable(taskId: string, limits: ExecutorLimits): Promise<void> {
    const tm = this.#need(this.#o.taskManager, 'a task manager');
    if (!tm.getTask) throw new PolicyError(`cannot check task ${taskId}'s resource constraints: the task manager has no getTask`);
    const task = await tm.getTask(taskId);
    limits.checkTaskResources!(task.constraints);
  }

  async #invokeTool(name: string, params: Record<string, WireValue>, timeoutMs: number | undefined, ctx: ExecutionContext): Promise<unknown> {
    if (!this.#allowedTools.has(name)) throw new PolicyError(`tool ${name} is not in the allowlist`);
    const tool = this.#need(this.#o.tools, 'a tool registry').require(name);
    throwIfAborted(ctx.signal);
    const max = this.#o.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
    // A decision may ask for less time than the executor allows, never more.
    const limit = typeof timeoutMs === 'number' && timeoutMs > 0 ? Math.min(timeoutMs, max) : max;
    // One deadline covers waiting for a slot and running: a house full of hung tools makes
    // later calls time out, it does not stall the executor.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutError(`tool ${name} timed out after ${limit} ms`)), limit);
    const onStop = (): void => controller.abort(new AbortError(`tool ${name} aborted: the runtime is stopping`, { cause: ctx.signal?.reason }));
    if (ctx.signal?.aborted) onStop();
    else ctx.signal?.addEventListener('abort', onStop, { once: true });
    const signal = controller.signal;
    let release: () => void = () => {};
    let running: Promise<unknown> | undefined;
    try {
      if (this.#o.limits) {
        try {
          release = await this.#o.limits.acquireToolSlot({ signal });
        } catch (err) {
          // Aborted while waiting for a slot: report the deadline (or the stop), not a bare abort.
          throw signal.aborted ? signal.reason : err;
        }
      }
      throwIfAborted(signal);
      // The tool gets the signal (timeout or stop); the race makes sure a tool that ignores it
      // cannot hold the executor past either.
      running = Promise.resolve().then(() => tool.run(params, { signal }));
      const ended = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      ended.catch(() => {});
      return await Promise.race([running, ended]);
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onStop);
      // The slot is the bound on tools alive at once: a tool that outlived its deadline keeps
      // its slot until its promise settles (it was told to stop through its signal).
      if (running) void running.then(release, release);
      else release();
    }
  }
}

/** Whether an error means "someone else holds or finished this task" (a lost race, not a fault). */
export function isLostRace(err: unknown): boolean {
  return ConflictError.is(err);
}

/** Calls `call` with the lease the agent holds on `taskId`, which it gives up either way (the report or fail ends the claim). */
async function asHolder<T>(ctx: ExecutionContext, taskId: string, call: (lease: TaskLease) => Promise<T>): Promise<T> {
  const lease = heldLease(ctx, taskId);
  try {
    return await call(lease);
  } finally {
    ctx.leases.delete(taskId);
  }
}

/** The lease the agent holds on `taskId`; none → `ConflictError` (it did not claim the task, or lost the claim). */
function heldLease(ctx: ExecutionContext, taskId: string): TaskLease {
  const lease = ctx.leases.get(taskId);
  if (lease === undefined) throw new ConflictError(`${ctx.agentId} holds no claim on task ${taskId}`);
  return lease;
}
