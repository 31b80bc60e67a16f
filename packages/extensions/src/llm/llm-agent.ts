// An agent whose decisions come from a chat model, vetted by a schema and a policy.
import {
  AbortError, Agent, ConfigError, ConvergeError, CORE_DECISION_TYPES, Float64, bytesToHex, topicToString,
  type AgentOptions, type Decision, type DecisionPolicy, type Message, type Task,
} from '@converge/core';
import { DECISION_TYPES_DESCRIPTION, coreDecisionSchema, customDecisionSchema } from './decision-schema.js';
import { MAX_MODEL_OUTPUT_CHARS, MAX_MODEL_OUTPUT_DEPTH, extractDecisionList, jsonDepthWithin } from './output.js';
import { LLMBudgetError, LLMTimeoutError } from './errors.js';
import type { ChatResponse, LLMProvider } from './types.js';

/** Why a proposed decision (or a whole answer) was dropped. */
export type LLMRejectionReason = 'unparseable' | 'schema' | 'policy' | 'too_many';

/** Every rejection reason, for iterating over counters. */
export const LLM_REJECTION_REASONS: readonly LLMRejectionReason[] = ['unparseable', 'schema', 'policy', 'too_many'];

/** One rejection, as given to `onRejection` and the logger. */
export interface LLMRejection {
  reason: LLMRejectionReason;
  /** What was wrong (schema issues, the policy's reason, ...). */
  detail: string;
  /** The proposed decision, where there was one. */
  decision?: unknown;
}

/** Counters of an `LLMAgent` (cumulative since construction). */
export interface LLMAgentStats {
  /** `decide` calls that asked the model. */
  calls: number;
  /** Decisions the model proposed (items of its list). */
  proposed: number;
  /** Decisions returned to the caller. */
  accepted: number;
  /** Dropped decisions (or answers, for `unparseable`) by reason. */
  rejections: Record<LLMRejectionReason, number>;
  /** Provider calls that failed (`decide` returned `[]`). */
  providerErrors: number;
  /** Failed provider calls by error `code` (`ERR_LLM_TIMEOUT`, `ERR_LLM_RATE_LIMIT`, ...). */
  providerErrorsByCode: Record<string, number>;
  /** `decide` calls that did not ask the model: nothing new since its last answer (returned `[]`). */
  idleSkips: number;
  /** `decide` calls refused by the call budget (`LLMBudgetError`; the model was not asked). */
  budgetRefusals: number;
}

/** Minimal logger (pino-compatible): rejections and provider errors are logged at `warn`. */
export interface LLMAgentLogger {
  warn(obj: object, msg?: string): void;
}

/** Default most decisions one `decide` call returns. */
export const DEFAULT_MAX_DECISIONS = 16;
/** Default deadline of one model call made by `decide` (60 s). */
export const DEFAULT_DECIDE_TIMEOUT_MS = 60_000;
/** Default budget of the JSON context (messages and tasks) in the prompt, in characters. */
export const DEFAULT_MAX_PROMPT_CHARS = 100_000;
/** Default most model calls `decide` makes per `callWindowMs`. */
export const DEFAULT_MAX_CALLS_PER_WINDOW = 60;
/** Default window of the call budget, ms (60 s). */
export const DEFAULT_CALL_WINDOW_MS = 60_000;

/** What `decide` may receive beside messages and tasks (the runtime's turn context). */
export interface LLMDecideContext {
  /**
   * Outcomes of the previous turn's decisions. Those that tell the model something (all but a
   * delivered `SendMessage`, whose result is only the sent message's id) count as new input and
   * are shown to it in the prompt.
   */
  outcomes?: readonly unknown[];
}

/** Options of {@link LLMAgent}. */
export interface LLMAgentOptions extends AgentOptions {
  /** The model to ask. */
  provider: LLMProvider;
  /** Instructions appended to the built-in system prompt (the agent's role, goals, rules). */
  systemPrompt?: string;
  /**
   * Vets every schema-valid decision (`policy.check(decision)`); refused ones are dropped and
   * counted as `policy`. Without one, every schema-valid decision is returned: give one (an
   * allowlist) whenever the model's output is not fully trusted.
   */
  policy?: DecisionPolicy;
  /** Most decisions returned per call (default 16); the rest are counted as `too_many`. */
  maxDecisions?: number;
  /** Deadline of one model call in ms (default 60 000). */
  timeoutMs?: number;
  /** Model override passed to the provider. */
  model?: string;
  /** Sampling temperature passed to the provider. */
  temperature?: number;
  /** Token limit passed to the provider. */
  maxTokens?: number;
  /** Custom decision types accepted (as objects with that `type`); others are `schema` rejections. */
  allowCustomTypes?: readonly string[];
  /** Rethrow provider errors from `decide` instead of returning `[]` (default false). */
  throwOnProviderError?: boolean;
  /** Budget of the messages/tasks JSON in the prompt, in characters (default 100 000). */
  maxPromptChars?: number;
  /**
   * Ask the model only when something is new since its last answer: a message, an outcome,
   * or a change in the tasks on offer (ids, states, attempts). Otherwise `decide` returns `[]`
   * at once (`stats.idleSkips`). Default true: without it a runtime that re-runs turns calls
   * the model in a loop on the same input. After a failed provider call the next one is allowed.
   */
  callOnlyOnNewInput?: boolean;
  /**
   * Most model calls per `callWindowMs` (default 60); past it `decide` throws `LLMBudgetError`
   * (with `retryAfterMs`) without asking the model, and the runtime keeps the messages queued.
   */
  maxCallsPerWindow?: number;
  /** Window of `maxCallsPerWindow`, ms (default 60,000). */
  callWindowMs?: number;
  /** Clock of the call budget, ms (default `Date.now`). */
  clock?: () => number;
  /** Called for every rejection (after counting). */
  onRejection?: (rejection: LLMRejection) => void;
  /** Where rejections and provider errors are logged (default: nowhere; they are still counted). */
  logger?: LLMAgentLogger;
}

const CORE_TYPES = new Set<string>(CORE_DECISION_TYPES);

const BASE_PROMPT = `You are an autonomous agent in a Converge multi-agent network.
You receive the messages that arrived, the tasks on offer and the outcomes of your previous decisions, as JSON.
Answer with a JSON array of decisions and nothing else (an empty array when there is nothing to do).
Each decision is an object whose "type" is one of:
${DECISION_TYPES_DESCRIPTION}`;

// Plain JSON for the prompt: bigint as a string, bytes as {"$bytes": hex}, Maps as objects.
function jsonSafe(v: unknown, depth = 0): unknown {
  if (depth > 64) return '…';
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Float64) return v.value;
  if (v instanceof Uint8Array) return { $bytes: bytesToHex(v.subarray(0, 256)) + (v.byteLength > 256 ? '…' : '') };
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonSafe(x, depth + 1)]));
  if (Array.isArray(v)) return v.map((x) => jsonSafe(x, depth + 1));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x, depth + 1)]));
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

// What identifies the tasks on offer for `callOnlyOnNewInput`: ids, states and attempts.
function tasksKeyOf(tasks: readonly Task[]): string {
  let key = '';
  for (const t of tasks) key += `${t.id}\u0000${t.state}\u0000${t.attempts}\u0001`;
  return key;
}

function describeMessage(m: Message): unknown {
  return {
    id: m.id, sender: m.sender, recipient: m.recipient, topics: m.topics.map(topicToString),
    payload: jsonSafe(m.payload), taskId: m.taskId, timestamp: m.timestamp,
  };
}

function describeTask(t: Task): unknown {
  return {
    id: t.id, objective: t.objective, inputs: jsonSafe(t.inputs), constraints: jsonSafe(t.constraints), state: t.state,
    poolId: t.poolId, requiredCapabilities: t.requiredCapabilities, attempts: t.attempts,
  };
}

// Outcomes worth a model call: all but a delivered SendMessage. Counting those too would make an
// agent that always answers with a message call its model again at once, forever (issue 21 M4).
function informativeOutcomes(outcomes: readonly unknown[] | undefined): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const o of outcomes ?? []) {
    if (!o || typeof o !== 'object') continue;
    const { decision, status } = o as { decision?: { type?: unknown }; status?: unknown };
    if (status === 'ok' && decision?.type === 'SendMessage') continue;
    out.push(o as Record<string, unknown>);
  }
  return out;
}

function describeOutcome(o: Record<string, unknown>): unknown {
  const decision = o.decision as { type?: unknown; taskId?: unknown; tool?: unknown } | undefined;
  return jsonSafe({ decision: decision?.type, taskId: decision?.taskId, tool: decision?.tool, status: o.status, result: o.result, error: o.error });
}

// Adds items while they fit the budget; returns them and how many were left out.
function withinBudget(items: readonly unknown[], budget: { left: number }): [string[], number] {
  const out: string[] = [];
  for (const item of items) {
    const s = JSON.stringify(item);
    if (s.length + 2 > budget.left) break;
    budget.left -= s.length + 2;
    out.push(s);
  }
  return [out, items.length - out.length];
}

/**
 * An agent that asks a chat model what to do. `decide` sends the messages and tasks as JSON,
 * expects a JSON array of decisions back (inside a ```json fence or not, prose tolerated),
 * validates each against the core decision schemas (custom types only when allowed) and then
 * against `policy`, and returns the survivors (at most `maxDecisions`). Everything dropped is
 * counted in `stats.rejections` by reason and logged; a provider failure returns `[]` and is
 * counted in `stats.providerErrors` (unless `throwOnProviderError`). `decide` never blocks
 * the event loop, and `onStop()` cancels calls in flight.
 */
export class LLMAgent extends Agent {
  /** The model. */
  readonly provider: LLMProvider;
  /** The policy decisions must pass, if any. */
  readonly policy?: DecisionPolicy;
  private readonly options: LLMAgentOptions;
  private readonly maxDecisions: number;
  private readonly timeoutMs: number;
  private readonly maxPromptChars: number;
  private readonly customTypes: ReadonlySet<string>;
  private readonly maxCallsPerWindow: number;
  private readonly callWindowMs: number;
  private readonly clock: () => number;
  /** Start times of the model calls inside the current window, oldest first (at most maxCallsPerWindow). */
  private readonly callTimes: number[] = [];
  /** The tasks key of the last answered call; `undefined` before one, or after a failed call. */
  private answeredTasksKey: string | undefined;
  private lifecycle = new AbortController();
  private readonly counters: LLMAgentStats = {
    calls: 0, proposed: 0, accepted: 0, providerErrors: 0, providerErrorsByCode: {}, idleSkips: 0, budgetRefusals: 0,
    rejections: { unparseable: 0, schema: 0, policy: 0, too_many: 0 },
  };

  constructor(options: LLMAgentOptions) {
    super(options);
    if (!options?.provider || typeof options.provider.chat !== 'function') throw new ConfigError('provider is required', { key: 'provider' });
    const int = (v: number | undefined, d: number, key: string): number => {
      const x = v ?? d;
      if (!Number.isSafeInteger(x) || x < 1) throw new ConfigError(`${key} must be a positive integer`, { key });
      return x;
    };
    this.provider = options.provider;
    this.policy = options.policy;
    this.options = options;
    this.maxDecisions = int(options.maxDecisions, DEFAULT_MAX_DECISIONS, 'maxDecisions');
    this.timeoutMs = int(options.timeoutMs, DEFAULT_DECIDE_TIMEOUT_MS, 'timeoutMs');
    this.maxPromptChars = int(options.maxPromptChars, DEFAULT_MAX_PROMPT_CHARS, 'maxPromptChars');
    this.customTypes = new Set(options.allowCustomTypes ?? []);
    this.maxCallsPerWindow = int(options.maxCallsPerWindow, DEFAULT_MAX_CALLS_PER_WINDOW, 'maxCallsPerWindow');
    this.callWindowMs = int(options.callWindowMs, DEFAULT_CALL_WINDOW_MS, 'callWindowMs');
    this.clock = options.clock ?? Date.now;
  }

  /** A snapshot of the counters. */
  get stats(): LLMAgentStats {
    return {
      ...this.counters,
      rejections: { ...this.counters.rejections },
      providerErrorsByCode: { ...this.counters.providerErrorsByCode },
    };
  }

  /** Re-arms cancellation after a stop. */
  override onStart(): void {
    if (this.lifecycle.signal.aborted) this.lifecycle = new AbortController();
  }

  /** Cancels model calls in flight (their `decide` returns `[]`). */
  override onStop(): void {
    this.lifecycle.abort();
  }

  /** The system and user prompts `decide` would send (exposed for tests and debugging). */
  buildPrompt(messages: readonly Message[], tasks: readonly Task[], outcomes: readonly unknown[] = []): { system: string; user: string } {
    const system = this.options.systemPrompt ? `${BASE_PROMPT}\n\n${this.options.systemPrompt}` : BASE_PROMPT;
    const budget = { left: this.maxPromptChars };
    const [msgs, msgsLeft] = withinBudget(messages.map(describeMessage), budget);
    const [tsks, tsksLeft] = withinBudget(tasks.map(describeTask), budget);
    const heard = informativeOutcomes(outcomes);
    const [outs, outsLeft] = withinBudget(heard.map(describeOutcome), budget);
    const user = [
      `{"agent": ${JSON.stringify({ id: this.id, capabilities: this.capabilities.names() })},`,
      ` "messages": [${msgs.join(', ')}],`,
      msgsLeft > 0 ? ` "messagesOmitted": ${msgsLeft},` : '',
      ` "tasks": [${tsks.join(', ')}]${tsksLeft > 0 ? `, "tasksOmitted": ${tsksLeft}` : ''}`,
      heard.length > 0 ? `, "outcomes": [${outs.join(', ')}]${outsLeft > 0 ? `, "outcomesOmitted": ${outsLeft}` : ''}` : '',
      '}',
    ].join('');
    return { system, user };
  }

  /**
   * Asks the model and returns the decisions that pass the schema and the policy. Returns `[]`
   * without asking when nothing is new since the last answer (`callOnlyOnNewInput`).
   * @throws LLMBudgetError when the call budget is spent (the model is not asked); a provider
   * error only with `throwOnProviderError`.
   */
  async decide(messages: readonly Message[], tasks: readonly Task[], context?: LLMDecideContext): Promise<Decision[]> {
    const tasksKey = tasksKeyOf(tasks);
    const fresh = messages.length > 0 || informativeOutcomes(context?.outcomes).length > 0 || tasksKey !== this.answeredTasksKey;
    if (!fresh && this.options.callOnlyOnNewInput !== false) {
      this.counters.idleSkips++;
      return [];
    }
    this.spendCall();
    const { system, user } = this.buildPrompt(messages, tasks, context?.outcomes);
    this.counters.calls++;
    // Until this call is answered, the next one may retry the same input.
    this.answeredTasksKey = undefined;
    let answer: ChatResponse;
    // The provider gets the deadline and the stop signal; the race also bounds a provider
    // that ignores them, so decide always settles within timeoutMs.
    const ac = new AbortController();
    const stop = this.lifecycle.signal;
    const onStop = (): void => ac.abort(new AbortError('the agent was stopped'));
    if (stop.aborted) onStop();
    else stop.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(() => ac.abort(new LLMTimeoutError(this.timeoutMs, { provider: this.provider.name })), this.timeoutMs);
    const aborted = new Promise<never>((_, reject) => {
      if (ac.signal.aborted) reject(ac.signal.reason);
      else ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    try {
      answer = await Promise.race([
        this.provider.chat({
          messages: [{ role: 'system', content: system }, { role: 'user', content: user }],
          model: this.options.model,
          temperature: this.options.temperature,
          maxTokens: this.options.maxTokens,
          timeoutMs: this.timeoutMs,
          signal: ac.signal,
        }),
        aborted,
      ]);
    } catch (err) {
      const code = err instanceof ConvergeError ? err.code : 'ERR_UNKNOWN';
      this.counters.providerErrors++;
      this.counters.providerErrorsByCode[code] = (this.counters.providerErrorsByCode[code] ?? 0) + 1;
      this.options.logger?.warn({ code, provider: this.provider.name, err: (err as Error)?.message }, 'LLM provider call failed');
      if (this.options.throwOnProviderError) throw err;
      return [];
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    }
    this.answeredTasksKey = tasksKey;
    return this.vet(answer?.content);
  }

  // Takes one call from the sliding-window budget, or throws LLMBudgetError (nothing spent).
  private spendCall(): void {
    const now = this.clock();
    const times = this.callTimes;
    while (times.length > 0 && times[0]! <= now - this.callWindowMs) times.shift();
    if (times.length >= this.maxCallsPerWindow) {
      this.counters.budgetRefusals++;
      const retryAfterMs = Math.max(1, times[0]! + this.callWindowMs - now);
      const err = new LLMBudgetError(`call budget spent: ${this.maxCallsPerWindow} model calls per ${this.callWindowMs} ms`, { provider: this.provider.name, retryAfterMs });
      this.options.logger?.warn({ code: err.code, provider: this.provider.name, retryAfterMs }, 'LLM call budget spent');
      throw err;
    }
    times.push(now);
  }

  /**
   * Turns model output into vetted decisions, counting every rejection. Never throws: output
   * too long (`MAX_MODEL_OUTPUT_CHARS`) or nested too deep (`MAX_MODEL_OUTPUT_DEPTH`, checked
   * by a scan before any parse) is an `unparseable` rejection, an item whose validation fails
   * in any way a `schema` rejection.
   */
  vet(content: string): Decision[] {
    let list: unknown[] | undefined;
    try {
      list = extractDecisionList(content);
    } catch {
      list = undefined; // extractDecisionList does not throw; this keeps vet's promise regardless
    }
    if (list === undefined) {
      const length = typeof content === 'string' ? content.length : 0;
      const why = typeof content !== 'string' ? 'output is not a string'
        : length > MAX_MODEL_OUTPUT_CHARS ? `output longer than ${MAX_MODEL_OUTPUT_CHARS} characters`
          : !jsonDepthWithin(content) ? `output nested deeper than ${MAX_MODEL_OUTPUT_DEPTH} levels`
            : 'no JSON list of decisions';
      this.reject({ reason: 'unparseable', detail: `${why} (${length} characters of output)` });
      return [];
    }
    this.counters.proposed += list.length;
    const accepted: Decision[] = [];
    for (const item of list) {
      if (accepted.length >= this.maxDecisions) {
        this.reject({ reason: 'too_many', detail: `more than ${this.maxDecisions} decisions`, decision: item });
        continue;
      }
      const decision = this.validate(item);
      if (decision === undefined) continue;
      let verdict: { allowed: boolean; reason?: string } = { allowed: true };
      if (this.policy) {
        try {
          verdict = this.policy.check(decision);
        } catch (err) {
          verdict = { allowed: false, reason: `policy check threw: ${(err as Error)?.message}` };
        }
      }
      if (!verdict.allowed) {
        this.reject({ reason: 'policy', detail: verdict.reason ?? 'refused by policy', decision });
        continue;
      }
      accepted.push(decision);
    }
    this.counters.accepted += accepted.length;
    return accepted;
  }

  private validate(item: unknown): Decision | undefined {
    try {
      return this.validateItem(item);
    } catch (err) {
      // Depth is bounded before parsing, so this is a last line: whatever a schema does with
      // an item, vet does not throw.
      this.reject({ reason: 'schema', detail: `validation failed: ${(err as Error)?.name ?? 'error'}`, decision: item });
      return undefined;
    }
  }

  private validateItem(item: unknown): Decision | undefined {
    const type = item && typeof item === 'object' ? (item as { type?: unknown }).type : undefined;
    if (typeof type === 'string' && !CORE_TYPES.has(type)) {
      if (!this.customTypes.has(type)) {
        this.reject({ reason: 'schema', detail: `decision type ${JSON.stringify(type.slice(0, 64))} is not allowed`, decision: item });
        return undefined;
      }
      const r = customDecisionSchema.safeParse(item);
      if (r.success) return r.data as Decision;
      this.reject({ reason: 'schema', detail: r.error.issues.map((i) => i.message).join('; '), decision: item });
      return undefined;
    }
    const r = coreDecisionSchema.safeParse(item);
    if (r.success) return r.data as Decision;
    const detail = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    this.reject({ reason: 'schema', detail, decision: item });
    return undefined;
  }

  private reject(rejection: LLMRejection): void {
    this.counters.rejections[rejection.reason]++;
    try {
      this.options.logger?.warn({ reason: rejection.reason, detail: rejection.detail }, 'LLM decision rejected');
      this.options.onRejection?.(rejection);
    } catch {
      // A failing logger or observer must not change what decide returns.
    }
  }
}
