// An agent whose decisions come from a chat model, vetted by a schema and a policy.
import {
  AbortError,
  Agent,
  ConfigError,
  ConvergeError,
  CORE_DECISION_TYPES,
  positiveIntOption,
  positiveIntOptions,
  type AgentOptions,
  type Decision,
  type DecisionPolicy,
  type Message,
  type Task,
} from '@converge/core';
import { DECISION_TYPES_DESCRIPTION, coreDecisionSchema, customDecisionSchema } from './decision-schema.js';
import { MAX_MODEL_OUTPUT_CHARS, MAX_MODEL_OUTPUT_DEPTH, extractDecisionList, jsonDepthWithin } from './output.js';
import { LLMBudgetError, LLMTimeoutError } from './errors.js';
import {
  DEFAULT_MAX_CONVERSATION_CHARS,
  DEFAULT_MAX_TOOL_RESULT_CHARS,
  DEFAULT_MAX_TOOL_TURNS,
  conversationChars,
  copyCalls,
  matchToolOutcomes,
  parseToolArguments,
  rejectedToolResult,
  toolResultOf,
  type AwaitedCall,
} from './tool-loop.js';
import { describeMessage, describeOutcome, describeTask, informativeOutcomes, tasksKeyOf, withinBudget } from './prompt.js';
import type { ChatMessage, ChatResponse, ChatToolCall, ChatToolSpec, LLMProvider } from './types.js';

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
  /** Tool calls the model made (each one also counts in `proposed`). */
  toolCalls: number;
  /** Tool results sent back to the model (ok and error ones). */
  toolResults: number;
  /** Tool results cut to `maxToolResultChars`. */
  toolResultsCut: number;
  /** Tool conversations ended by `maxToolTurns` or `maxConversationChars` (the next prompt starts afresh). */
  conversationsCut: number;
}

/** Minimal logger (pino-compatible): rejections and provider errors are logged at `warn`. */
export interface LLMAgentLogger {
  warn(obj: object, msg?: string): void;
}

/** Default limits of an `LLMAgent` (its options of the same names), frozen. */
export const LLM_AGENT_DEFAULTS = Object.freeze({ maxDecisions: 16, timeoutMs: 60_000, maxPromptChars: 100_000, maxCallsPerWindow: 60, callWindowMs: 60_000 });
/** Default most decisions one `decide` call returns. */
export const DEFAULT_MAX_DECISIONS = LLM_AGENT_DEFAULTS.maxDecisions;
/** Default deadline of one model call made by `decide` (60 s). */
export const DEFAULT_DECIDE_TIMEOUT_MS = LLM_AGENT_DEFAULTS.timeoutMs;
/** Default budget of the JSON context (messages and tasks) in the prompt, in characters. */
export const DEFAULT_MAX_PROMPT_CHARS = LLM_AGENT_DEFAULTS.maxPromptChars;
/** Default most model calls `decide` makes per `callWindowMs`. */
export const DEFAULT_MAX_CALLS_PER_WINDOW = LLM_AGENT_DEFAULTS.maxCallsPerWindow;
/** Default window of the call budget, ms (60 s). */
export const DEFAULT_CALL_WINDOW_MS = LLM_AGENT_DEFAULTS.callWindowMs;

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
  /**
   * Tools offered to the model in its provider's native tool-calling format. A tool call becomes
   * an `InvokeTool` decision (arguments bounded and validated, then `policy`); its outcome comes
   * back to the model as the provider's tool-result message in the next turn, in one bounded
   * conversation, until the model answers with text (its decisions, as without tools). Default none.
   */
  tools?: readonly ChatToolSpec[];
  /** Most model calls in one tool conversation (default 8); past it the conversation ends (`conversationsCut`). */
  maxToolTurns?: number;
  /** Most characters one tool conversation holds (default 200 000); past it the conversation ends (`conversationsCut`). */
  maxConversationChars?: number;
  /** Longest tool result sent back, in characters (default 16 000); longer ones are cut (`toolResultsCut`). */
  maxToolResultChars?: number;
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

const TOOLS_PROMPT = `You may call the tools offered to you: each call is run for you and its result (or error)
comes back as the tool's result. When you need no more tool results, answer with the JSON array of decisions.`;

/** A tool conversation in progress: the messages so far, the calls waiting for outcomes, model calls made. */
interface Conversation {
  messages: ChatMessage[];
  awaiting: AwaitedCall[];
  turns: number;
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
  private readonly tools: readonly ChatToolSpec[];
  private readonly toolNames: ReadonlySet<string>;
  private readonly maxToolTurns: number;
  private readonly maxConversationChars: number;
  private readonly maxToolResultChars: number;
  /** The tool conversation in progress, if the model's last answer called tools. */
  private conversation: Conversation | undefined;
  private readonly counters: LLMAgentStats = {
    calls: 0,
    proposed: 0,
    accepted: 0,
    providerErrors: 0,
    providerErrorsByCode: {},
    idleSkips: 0,
    budgetRefusals: 0,
    toolCalls: 0,
    toolResults: 0,
    toolResultsCut: 0,
    conversationsCut: 0,
    rejections: { unparseable: 0, schema: 0, policy: 0, too_many: 0 },
  };

  constructor(options: LLMAgentOptions) {
    super(options);
    if (!options?.provider || typeof options.provider.chat !== 'function') throw new ConfigError('provider is required', { key: 'provider' });
    const int = positiveIntOption;
    this.provider = options.provider;
    this.policy = options.policy;
    this.options = options;
    ({
      maxDecisions: this.maxDecisions,
      timeoutMs: this.timeoutMs,
      maxPromptChars: this.maxPromptChars,
      maxCallsPerWindow: this.maxCallsPerWindow,
      callWindowMs: this.callWindowMs,
    } = positiveIntOptions(options, LLM_AGENT_DEFAULTS));
    this.customTypes = new Set(options.allowCustomTypes ?? []);
    this.clock = options.clock ?? Date.now;
    this.tools = [...(options.tools ?? [])];
    for (const t of this.tools) {
      if (!t || typeof t.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(t.name))
        throw new ConfigError('every tool needs a name of 1-64 letters, digits, _ or -', { key: 'tools' });
    }
    this.toolNames = new Set(this.tools.map((t) => t.name));
    this.maxToolTurns = int(options.maxToolTurns, DEFAULT_MAX_TOOL_TURNS, 'maxToolTurns');
    this.maxConversationChars = int(options.maxConversationChars, DEFAULT_MAX_CONVERSATION_CHARS, 'maxConversationChars');
    this.maxToolResultChars = int(options.maxToolResultChars, DEFAULT_MAX_TOOL_RESULT_CHARS, 'maxToolResultChars');
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
    const base = this.tools.length > 0 ? `${BASE_PROMPT}\n\n${TOOLS_PROMPT}` : BASE_PROMPT;
    const system = this.options.systemPrompt ? `${base}\n\n${this.options.systemPrompt}` : base;
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
   * without asking when nothing is new since the last answer (`callOnlyOnNewInput`). With
   * `tools`, a model answer that calls tools returns their `InvokeTool` decisions, and the next
   * call sends their outcomes back as tool results in the same conversation.
   * @throws LLMBudgetError when the call budget is spent (the model is not asked); a provider
   * error only with `throwOnProviderError`.
   */
  async decide(messages: readonly Message[], tasks: readonly Task[], context?: LLMDecideContext): Promise<Decision[]> {
    const tasksKey = tasksKeyOf(tasks);
    // A conversation lives only while the model's tool calls wait for results (outcomes, or
    // error results of rejected calls not yet sent): that is new input for the model.
    const pending = this.conversation !== undefined;
    const fresh = pending || messages.length > 0 || informativeOutcomes(context?.outcomes).length > 0 || tasksKey !== this.answeredTasksKey;
    if (!fresh && this.options.callOnlyOnNewInput !== false) {
      this.counters.idleSkips++;
      return [];
    }
    this.spendCall();
    let chat = this.nextMessages(messages, tasks, context?.outcomes ?? []);
    // Until this call is answered, the next one may retry the same input.
    this.answeredTasksKey = undefined;
    for (;;) {
      const answer = await this.ask(chat);
      if (answer === undefined) return [];
      this.answeredTasksKey = tasksKey;
      const calls = this.tools.length > 0 ? (answer.toolCalls ?? []) : [];
      if (calls.length === 0) {
        this.conversation = undefined;
        return this.vet(answer?.content);
      }
      const decisions = this.takeToolCalls(answer.content ?? '', calls);
      // Every call was rejected: nothing will run, so nothing would wake the agent. The model
      // hears why at once (within the turn and call budgets).
      if (decisions.length > 0 || !this.conversation || this.conversation.turns >= this.maxToolTurns) return decisions;
      try {
        this.spendCall();
      } catch {
        return []; // counted by spendCall; the conversation waits for the next decide
      }
      chat = this.conversation.messages;
    }
  }

  // The messages of the next call: the conversation in progress with the outcomes of its tool
  // calls as tool results (and any other news as a user message), or a fresh prompt.
  private nextMessages(messages: readonly Message[], tasks: readonly Task[], outcomes: readonly unknown[]): ChatMessage[] {
    let conv = this.conversation;
    let rest: readonly unknown[] = outcomes;
    if (conv) {
      if (conv.awaiting.length > 0) {
        const m = matchToolOutcomes(conv.awaiting, outcomes);
        conv.awaiting.forEach((a, i) => {
          const r = toolResultOf(a.callId, m.matched[i], this.maxToolResultChars);
          conv!.messages.push(r.message);
          this.counters.toolResults++;
          if (r.cut) this.counters.toolResultsCut++;
        });
        conv.awaiting = [];
        rest = m.rest;
      }
      const chars = conversationChars(conv.messages);
      if (conv.turns >= this.maxToolTurns || chars > this.maxConversationChars) {
        // Cut: the next prompt starts afresh and shows every outcome as JSON, as without tools.
        this.counters.conversationsCut++;
        this.options.logger?.warn({ turns: conv.turns, chars }, 'LLM tool conversation cut');
        conv = this.conversation = undefined;
        rest = outcomes;
      }
    }
    if (!conv) {
      const { system, user } = this.buildPrompt(messages, tasks, rest);
      conv = {
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: user },
        ],
        awaiting: [],
        turns: 0,
      };
      // A conversation is kept only while tools are offered (it carries their results).
      if (this.tools.length > 0) this.conversation = conv;
      return conv.messages;
    }
    if (messages.length > 0 || informativeOutcomes(rest).length > 0)
      conv.messages.push({ role: 'user', content: this.buildPrompt(messages, tasks, rest).user });
    return conv.messages;
  }

  // Turns the model's tool calls into vetted InvokeTool decisions, waiting for their outcomes;
  // a rejected call gets its error result at once (every call must have a result).
  private takeToolCalls(content: string, calls: readonly ChatToolCall[]): Decision[] {
    const conv = this.conversation!;
    conv.messages.push({ role: 'assistant', content, toolCalls: copyCalls(calls) });
    this.counters.toolCalls += calls.length;
    this.counters.proposed += calls.length;
    const accepted: Decision[] = [];
    for (const call of calls) {
      let status = 'invalid';
      let detail: string | undefined;
      let decision: Decision | undefined;
      if (accepted.length >= this.maxDecisions) {
        status = 'refused';
        detail = `more than ${this.maxDecisions} tool calls in one answer`;
        this.reject({ reason: 'too_many', detail, decision: { tool: call.name } });
      } else if (!this.toolNames.has(call.name)) {
        detail = `tool ${JSON.stringify(call.name.slice(0, 64))} was not offered`;
        this.reject({ reason: 'schema', detail, decision: { tool: call.name } });
      } else {
        const args = parseToolArguments(call.arguments);
        if (!args.ok) {
          detail = args.detail;
          this.reject({ reason: 'schema', detail, decision: { tool: call.name } });
        } else {
          decision = this.validate({ type: 'InvokeTool', tool: call.name, params: args.params });
          if (decision === undefined) detail = 'the arguments do not fit an InvokeTool decision';
          else {
            const verdict = this.checkPolicy(decision);
            if (!verdict.allowed) {
              status = 'refused';
              detail = verdict.reason ?? 'refused by policy';
              this.reject({ reason: 'policy', detail, decision });
              decision = undefined;
            }
          }
        }
      }
      if (decision) {
        accepted.push(decision);
        conv.awaiting.push({ callId: call.id, decision });
      } else {
        conv.messages.push(rejectedToolResult(call.id, status, detail ?? 'rejected'));
        this.counters.toolResults++;
      }
    }
    this.counters.accepted += accepted.length;
    return accepted;
  }

  // One model call with the deadline, the stop signal and the tools; `undefined` after a
  // provider failure (counted and logged; rethrown with throwOnProviderError).
  private async ask(chat: readonly ChatMessage[]): Promise<ChatResponse | undefined> {
    this.counters.calls++;
    if (this.conversation) this.conversation.turns++;
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
      return await Promise.race([
        this.provider.chat({
          // A copy: the conversation grows after the call, the request must not.
          messages: [...chat],
          model: this.options.model,
          temperature: this.options.temperature,
          maxTokens: this.options.maxTokens,
          timeoutMs: this.timeoutMs,
          signal: ac.signal,
          ...(this.tools.length > 0 ? { tools: this.tools } : {}),
        }),
        aborted,
      ]);
    } catch (err) {
      const code = ConvergeError.is(err) ? err.code : 'ERR_UNKNOWN';
      this.counters.providerErrors++;
      this.counters.providerErrorsByCode[code] = (this.counters.providerErrorsByCode[code] ?? 0) + 1;
      this.options.logger?.warn({ code, provider: this.provider.name, err: (err as Error)?.message }, 'LLM provider call failed');
      if (this.options.throwOnProviderError) throw err;
      return undefined;
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    }
  }

  private checkPolicy(decision: Decision): { allowed: boolean; reason?: string } {
    if (!this.policy) return { allowed: true };
    try {
      return this.policy.check(decision);
    } catch (err) {
      return { allowed: false, reason: `policy check threw: ${(err as Error)?.message}` };
    }
  }

  // Takes one call from the sliding-window budget, or throws LLMBudgetError (nothing spent).
  private spendCall(): void {
    const now = this.clock();
    const times = this.callTimes;
    while (times.length > 0 && times[0]! <= now - this.callWindowMs) times.shift();
    if (times.length >= this.maxCallsPerWindow) {
      this.counters.budgetRefusals++;
      const retryAfterMs = Math.max(1, times[0]! + this.callWindowMs - now);
      const err = new LLMBudgetError(`call budget spent: ${this.maxCallsPerWindow} model calls per ${this.callWindowMs} ms`, {
        provider: this.provider.name,
        retryAfterMs,
      });
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
      const why =
        typeof content !== 'string'
          ? 'output is not a string'
          : length > MAX_MODEL_OUTPUT_CHARS
            ? `output longer than ${MAX_MODEL_OUTPUT_CHARS} characters`
            : !jsonDepthWithin(content)
              ? `output nested deeper than ${MAX_MODEL_OUTPUT_DEPTH} levels`
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
      const verdict = this.checkPolicy(decision);
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
    const detail = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
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
