/**
 * The shapes of the optional services the runtime reports to (discovery, verification,
 * replay recording, tracing, checkpoints). Declaring only what the runtime calls lets users
 * plug in their own implementations; `@converge/network`'s and `@converge/observability`'s fit.
 */
import type { Agent, Decision, Message, MessageInit, Outcome, Store, Task, TraceContext, WireRecord, Logger, Metrics } from '@converge/core';
import type { VerifierPool } from '@converge/network';

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

/** A verifier's word on one message. */
export interface VerdictPort {
  /** Whether the message may be delivered. */
  ok: boolean;
  /** Why not. */
  reason?: string;
}

/**
 * What the runtime needs to vet incoming messages (`MessageVerifier` from `@converge/network`).
 * The verifier counts and logs each message it refuses (`MessageVerifier` does, in
 * `converge_messages_rejected_total`); the runtime does not count or log them again.
 */
export interface VerifierPort {
  /** Whether the message may be delivered, and why not (signature verified on this thread). */
  check(message: Message): VerdictPort;
  /** `check` for a batch, signatures verified on `pool`'s worker threads; one verdict per message, in order. */
  checkBatch?(messages: readonly Message[], pool: VerifierPool): Promise<readonly VerdictPort[]>;
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
  /** Sets one attribute. */
  setAttribute(key: string, value: string | number | boolean): unknown;
  /** Records an exception on the span. */
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
  /** Where the agent registers (at start), refreshes and unregisters (at stop). */
  discovery?: DiscoveryPort;
  /** Endpoints advertised in discovery (e.g. `['tcp://10.0.0.5:7000']`). */
  endpoints?: string[];
  /** Metadata advertised in discovery (plain data). */
  metadata?: WireRecord;
  /** Checks every incoming message; rejected ones are counted and logged (by the verifier), never delivered. */
  verifier?: VerifierPort;
  /**
   * Verifies incoming signatures on these worker threads, a batch at a time (`checkBatch` of
   * the `verifier`, which must have it), so that every core verifies. Default none: verified
   * on the main thread. The runtime starts the pool (idempotent); its owner stops it.
   */
  verifierPool?: VerifierPool;
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
  /** Records every accepted message and every `decide` call. */
  replayLog?: ReplayPort;
  /** Where checkpoints of a `Checkpointable` agent are kept. */
  checkpointStore?: Store;
  /** Where errors and refusals are logged. */
  logger?: Logger;
  /** Where the runtime's metrics go. */
  metrics?: Metrics;
}
