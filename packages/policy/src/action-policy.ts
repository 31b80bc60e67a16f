/**
 * `ActionPolicy`: an allowlist of decision types (with a denylist, per-type rules, a tool
 * allowlist, an optional recipient allowlist and an endpoint allowlist) that vets decisions
 * before execution.
 */
import { ConfigError, PolicyError, type Decision, type DecisionPolicy, type PolicyVerdict } from '@converge/core';
import { checkStringList } from './common.js';

/** A per-type rule: `true`/`false`, or a verdict with a reason. */
export type ActionRule = (decision: Decision) => boolean | PolicyVerdict;

/** Options of `ActionPolicy`. */
export interface ActionPolicyOptions {
  /** Decision types allowed; `'*'` allows every type. An empty list allows nothing. */
  allow: readonly string[];
  /** Decision types refused even when allowed; `'*'` refuses every type. Deny wins over allow. */
  deny?: readonly string[];
  /**
   * Extra checks by decision type, run after allow/deny. A rule that throws refuses the
   * decision (it never crashes the caller).
   */
  rules?: Readonly<Record<string, ActionRule>>;
  /** Tools an `InvokeTool` decision may name; `'*'` allows every tool. Absent or empty: no tool. */
  allowTools?: readonly string[];
  /**
   * Recipients a `SendMessage` may address; `null` in the list allows broadcasts. Absent: any
   * recipient.
   */
  allowRecipients?: readonly (string | null)[];
  /**
   * Endpoints (`"host:port"`, `'*'` for any) a `SendMessage` may route to through an endpoint
   * topic (`transport.tcp` with `host` and `port`: the TCP transport sends there when the
   * recipient is not in its address book). Absent: no endpoint topic is allowed when
   * `allowRecipients` is given (a topic must not route around it), and this policy does not
   * check them otherwise (the runtime's executor still does: see `StandardExecutorOptions.allowEndpoints`).
   */
  allowEndpoints?: readonly string[];
}

/** Namespace of the topics that name an endpoint (`TCP_TOPIC_NAMESPACE` of `@converge/network`). */
export const ENDPOINT_TOPIC_NAMESPACE = 'transport.tcp';

/**
 * The `host:port` endpoints named by a decision's topics (`transport.tcp` topics with a string
 * `host` and an integer `port` in 1..65535, read as the TCP transport reads them).
 */
export function endpointsOfTopics(topics: unknown): string[] {
  if (!Array.isArray(topics)) return [];
  const out: string[] = [];
  for (const t of topics) {
    if (!t || typeof t !== 'object' || (t as { namespace?: unknown }).namespace !== ENDPOINT_TOPIC_NAMESPACE) continue;
    const attrs = (t as { attributes?: unknown }).attributes;
    const get = (k: string): unknown =>
      attrs instanceof Map ? attrs.get(k) : attrs && typeof attrs === 'object' ? (attrs as Record<string, unknown>)[k] : undefined;
    const host = get('host');
    const raw = get('port');
    const port = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
    if (typeof host === 'string' && host !== '' && Number.isInteger(port) && port > 0 && port < 65536) out.push(`${host}:${port}`);
  }
  return out;
}

/** Counters of an `ActionPolicy`. */
export interface ActionPolicyStats {
  /** Decisions checked. */
  checked: number;
  /** Decisions refused. */
  refused: number;
}

/**
 * Vets decisions by their `type` — core and custom types alike. Implements core's
 * `DecisionPolicy`, so the runtime, the executor and `LLMAgent` can use it.
 */
export class ActionPolicy implements DecisionPolicy {
  readonly #allow: ReadonlySet<string>;
  readonly #deny: ReadonlySet<string>;
  readonly #rules: ReadonlyMap<string, ActionRule>;
  readonly #tools: ReadonlySet<string>;
  readonly #recipients: ReadonlySet<string | null> | undefined;
  readonly #endpoints: ReadonlySet<string> | undefined;
  #checked = 0;
  #refused = 0;

  /** @throws ConfigError on lists that are not lists of strings, or rules that are not functions. */
  constructor(options: ActionPolicyOptions) {
    if (!options || typeof options !== 'object') throw new ConfigError('ActionPolicy needs options with an allow list', { key: 'allow' });
    this.#allow = new Set(checkStringList('allow', options.allow));
    this.#deny = new Set(checkStringList('deny', options.deny ?? []));
    this.#tools = new Set(checkStringList('allowTools', options.allowTools ?? []));
    const rules = new Map<string, ActionRule>();
    for (const [type, rule] of Object.entries(options.rules ?? {})) {
      if (typeof rule !== 'function') throw new ConfigError(`rule for ${type} must be a function`, { key: 'rules' });
      rules.set(type, rule);
    }
    this.#rules = rules;
    if (options.allowRecipients !== undefined) {
      const list = options.allowRecipients;
      if (!Array.isArray(list) || !list.every((r) => r === null || (typeof r === 'string' && r.length > 0))) {
        throw new ConfigError('allowRecipients must list non-empty strings or null', { key: 'allowRecipients' });
      }
      this.#recipients = new Set(list);
    }
    if (options.allowEndpoints !== undefined) this.#endpoints = new Set(checkStringList('allowEndpoints', options.allowEndpoints));
    else if (this.#recipients) this.#endpoints = new Set();
  }

  /** Whether `decision` may be executed, and why not. Never throws. */
  check(decision: Decision): PolicyVerdict {
    this.#checked++;
    const verdict = this.#verdict(decision);
    if (!verdict.allowed) this.#refused++;
    return verdict;
  }

  /** Like `check`, but throws `PolicyError` (with the reason) when refused. */
  enforce(decision: Decision): void {
    const v = this.check(decision);
    if (!v.allowed) throw new PolicyError(v.reason ?? 'refused by the action policy');
  }

  /** A snapshot of the counters. */
  stats(): ActionPolicyStats {
    return { checked: this.#checked, refused: this.#refused };
  }

  #verdict(decision: Decision): PolicyVerdict {
    if (decision === null || typeof decision !== 'object' || typeof decision.type !== 'string') {
      return { allowed: false, reason: 'malformed decision: no string type' };
    }
    const type = decision.type;
    if (this.#deny.has(type) || this.#deny.has('*')) return { allowed: false, reason: `decision type ${type} is denied` };
    if (!this.#allow.has(type) && !this.#allow.has('*')) return { allowed: false, reason: `decision type ${type} is not allowed` };
    if (type === 'InvokeTool') {
      const tool = (decision as { tool?: unknown }).tool;
      if (typeof tool !== 'string') return { allowed: false, reason: 'InvokeTool without a tool name' };
      if (!this.#tools.has(tool) && !this.#tools.has('*')) return { allowed: false, reason: `tool ${tool} is not allowed` };
    }
    if (type === 'SendMessage' && this.#recipients) {
      const recipient = (decision as { recipient?: unknown }).recipient ?? null;
      if (!(recipient === null || typeof recipient === 'string') || !this.#recipients.has(recipient)) {
        return { allowed: false, reason: recipient === null ? 'broadcast is not allowed' : `recipient ${String(recipient as unknown)} is not allowed` };
      }
    }
    if (type === 'SendMessage' && this.#endpoints && !this.#endpoints.has('*')) {
      for (const endpoint of endpointsOfTopics((decision as { topics?: unknown }).topics)) {
        if (!this.#endpoints.has(endpoint)) return { allowed: false, reason: `endpoint ${endpoint} is not allowed` };
      }
    }
    const rule = this.#rules.get(type);
    if (rule) {
      let out: boolean | PolicyVerdict;
      try {
        out = rule(decision);
      } catch (err) {
        return { allowed: false, reason: `rule for ${type} failed: ${(err as Error)?.message ?? String(err)}` };
      }
      if (out === true) return { allowed: true };
      if (out === false) return { allowed: false, reason: `refused by the rule for ${type}` };
      if (out && typeof out === 'object' && typeof out.allowed === 'boolean') {
        return out.allowed ? { allowed: true } : { allowed: false, reason: out.reason ?? `refused by the rule for ${type}` };
      }
      return { allowed: false, reason: `rule for ${type} returned no verdict` };
    }
    return { allowed: true };
  }
}
