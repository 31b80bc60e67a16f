import type { Agent, Decision, Message, Store, Task } from '@converge/core';
import type { Logger, MetricsCollector } from '@converge/observability';
import type { ExecutionContext, ExecutionResult, Executor } from './executor.js';

/** What the runtime needs of a discovery service. */
export interface DiscoveryPort {
  register(descriptor: {
    id: string;
    publicKey: Uint8Array;
    topics: Agent['topics'];
    capabilities: ReturnType<Agent['capabilities']['toJSON']>;
    endpoints?: unknown;
    metadata?: Record<string, unknown>;
  }): unknown;
  unregister(id: string): unknown;
}

/** What the runtime needs to vet incoming messages (`MessageVerifier` from `@converge/network`). */
export interface VerifierPort {
  check(message: Message): { ok: boolean; reason?: string };
}

/** What the runtime records to a replay log (`ReplayLog` from `@converge/observability`). */
export interface ReplayPort {
  recordMessage(message: Message): unknown;
  recordDecisions(agentId: string, decisions: readonly Decision[], inputs: readonly Message[]): unknown;
}

/** Wraps work in a tracing span (`withSpan` from `@converge/observability`). */
export type SpanRunner = <T>(name: string, attributes: Record<string, string | number | boolean>, fn: () => Promise<T>) => Promise<T>;

/** An agent that can save and restore its own state. */
export interface Checkpointable {
  snapshot(): unknown;
  restore(state: unknown): void | Promise<void>;
}

/** The optional services the runtime reports to. */
export interface RuntimeHooksOptions {
  discovery?: DiscoveryPort;
  /** Endpoints advertised in discovery (e.g. `{ tcp: 'host:port' }`). */
  endpoints?: Record<string, string>;
  /** Checks every incoming message; rejected ones are counted and logged, never delivered. */
  verifier?: VerifierPort;
  /** Wraps decide and execute in spans. */
  tracer?: SpanRunner;
  replayLog?: ReplayPort;
  checkpointStore?: Store;
  logger?: Logger;
  metrics?: MetricsCollector;
}

function isCheckpointable(agent: unknown): agent is Checkpointable {
  return typeof (agent as Checkpointable).snapshot === 'function' && typeof (agent as Checkpointable).restore === 'function';
}

/**
 * The runtime's side concerns, kept out of its loop: verification, discovery, checkpoints,
 * replay recording, spans, error and metric accounting.
 */
export class RuntimeHooks {
  readonly #agent: Agent;
  readonly #o: RuntimeHooksOptions;
  readonly #counters = new Map<string, ReturnType<MetricsCollector['counter']>>();
  readonly #errors = new Map<string, number>();
  #registered = false;
  #rejected = 0;

  constructor(agent: Agent, options: RuntimeHooksOptions) {
    this.#agent = agent;
    this.#o = options;
  }

  /** Errors so far by stage (decide, execute, receive, …). */
  get errors(): ReadonlyMap<string, number> {
    return this.#errors;
  }

  /** Incoming messages the verifier rejected. */
  get rejected(): number {
    return this.#rejected;
  }

  async onStart(): Promise<void> {
    const { discovery, checkpointStore } = this.#o;
    if (checkpointStore && isCheckpointable(this.#agent)) {
      const state = await checkpointStore.get(this.#checkpointKey());
      if (state !== undefined) await this.#agent.restore(state);
    }
    if (discovery) {
      await discovery.register({
        id: this.#agent.id,
        publicKey: this.#agent.identity.publicKey,
        topics: this.#agent.topics,
        capabilities: this.#agent.capabilities.toJSON(),
        endpoints: this.#o.endpoints ?? {},
      });
      this.#registered = true;
    }
  }

  async onStop(): Promise<void> {
    try {
      if (this.#registered) await this.#o.discovery?.unregister(this.#agent.id);
      this.#registered = false;
    } catch (err) {
      this.error('unregister', err);
    }
    try {
      await this.checkpoint();
    } catch (err) {
      this.error('checkpoint', err);
    }
  }

  /** Saves the agent's snapshot, if it has one and a checkpoint store is configured. */
  async checkpoint(): Promise<void> {
    if (this.#o.checkpointStore && isCheckpointable(this.#agent)) {
      await this.#o.checkpointStore.put(this.#checkpointKey(), this.#agent.snapshot());
    }
  }

  /** Vets an incoming message; returns whether it may be delivered to the agent. */
  accept(message: Message): boolean {
    if (this.#o.verifier) {
      const verdict = this.#o.verifier.check(message);
      if (!verdict.ok) {
        this.#rejected++;
        this.count('converge_runtime_messages_rejected_total', { reason: verdict.reason ?? 'unknown' });
        this.#o.logger?.warn({ agentId: this.#agent.id, messageId: message.id, sender: message.sender, reason: verdict.reason }, 'message rejected');
        return false;
      }
    }
    this.#o.replayLog?.recordMessage(message);
    this.count('converge_runtime_messages_received_total', {});
    return true;
  }

  /** Calls the agent's `decide`, inside a span when tracing is on. */
  decide(messages: readonly Message[], tasks: readonly Task[]): Promise<Decision[]> {
    const run = async () => await this.#agent.decide(messages, tasks);
    const { tracer } = this.#o;
    return tracer ? tracer('agent.decide', { 'converge.agent': this.#agent.id, 'converge.messages': messages.length, 'converge.tasks': tasks.length }, run) : run();
  }

  /** Runs the executor on a batch, recording the decisions for replay. */
  execute(executor: Executor, decisions: Decision[], ctx: ExecutionContext, inputs: readonly Message[]): Promise<ExecutionResult[]> {
    this.#o.replayLog?.recordDecisions(this.#agent.id, decisions, inputs);
    const run = () => executor.execute(decisions, ctx);
    const { tracer } = this.#o;
    return tracer ? tracer('agent.execute', { 'converge.agent': this.#agent.id, 'converge.decisions': decisions.length }, run) : run();
  }

  /** Logs and counts an error of one stage; the loop goes on. */
  error(stage: string, err: unknown): void {
    this.#errors.set(stage, (this.#errors.get(stage) ?? 0) + 1);
    this.count('converge_runtime_errors_total', { stage });
    this.#o.logger?.error({ agentId: this.#agent.id, stage, err }, `runtime ${stage} failed`);
  }

  /** Increments a counter of the runtime's (no-op without a metrics collector). */
  count(name: string, labels: Record<string, string>): void {
    const metrics = this.#o.metrics;
    if (!metrics) return;
    let c = this.#counters.get(name);
    if (!c) {
      c = metrics.counter(name, HELP[name] ?? name, Object.keys(labels));
      this.#counters.set(name, c);
    }
    c.inc(labels);
  }

  #checkpointKey(): string {
    return `checkpoint:${this.#agent.id}`;
  }
}

const HELP: Record<string, string> = {
  converge_runtime_errors_total: 'Errors in the agent runtime loop, by stage; the loop goes on',
  converge_runtime_messages_received_total: 'Messages accepted into agent inboxes',
  converge_runtime_messages_rejected_total: 'Incoming messages the runtime refused (verification), by reason',
  converge_inbox_dropped_total: 'Messages an inbox refused or dropped because it was full',
  converge_runtime_lease_events_total: 'Task lease heartbeats, by event (renewed, lost)',
};
