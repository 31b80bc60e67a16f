import { ConfigError, LimitExceededError, TimeoutError } from './errors.js';
import { describeValue } from './describe-value.js';
import { requireInt } from './options.js';

/** What a check returns: a verdict, or a verdict with a short reason. */
export type HealthCheckResult = boolean | { ok: boolean; detail?: string };

/**
 * A pluggable health or readiness check (the reference's `health_check` / `ready_check`).
 * It gets a signal that aborts when the check runs out of time; it may be sync or async. A
 * check that throws, rejects or runs out of time counts as failing (with the reason as detail).
 */
export type HealthCheck = (signal: AbortSignal) => HealthCheckResult | Promise<HealthCheckResult>;

/** One check's verdict in a report. */
export interface CheckStatus {
  ok: boolean;
  detail?: string;
}

/** What `HealthChecks.health()` and `readiness()` answer: every check by name, and the conjunction. */
export interface HealthReport {
  ok: boolean;
  checks: Record<string, CheckStatus>;
}

/** Options of `HealthChecks`. */
export interface HealthChecksOptions {
  /** Longest one check may run before it counts as failing, ms (default `DEFAULT_CHECK_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Most checks of each kind (default `DEFAULT_MAX_HEALTH_CHECKS`). */
  maxChecks?: number;
}

/** Default longest one check may run: 2,000 ms (a probe must answer before its own timeout). */
export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;
/** Default most checks of each kind (health, readiness): 64. */
export const DEFAULT_MAX_HEALTH_CHECKS = 64;
/** Longest `detail` kept in a report, in characters: 256 (longer ones are cut). */
export const MAX_CHECK_DETAIL = 256;

const CHECK_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

type Kind = 'health' | 'readiness';

/**
 * A registry of pluggable health (liveness) and readiness checks. `health()` runs the health
 * checks; `readiness()` runs the health checks and the readiness checks (what is not healthy
 * is not ready). Checks of one report run concurrently, each bounded by `timeoutMs`; probes that
 * arrive while a report is being made share it, so a flood of probes runs each check once at a
 * time. `serveMetrics({ health })` answers `/healthz` and `/readyz` from it.
 */
export class HealthChecks {
  /** See `HealthChecksOptions.timeoutMs`. */
  readonly timeoutMs: number;
  /** See `HealthChecksOptions.maxChecks`. */
  readonly maxChecks: number;
  readonly #checks: Record<Kind, Map<string, HealthCheck>> = { health: new Map(), readiness: new Map() };
  readonly #inFlight: Partial<Record<Kind, Promise<HealthReport>>> = {};

  /** @throws ConfigError on a bad option. */
  constructor(options: HealthChecksOptions = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    const maxChecks = options.maxChecks ?? DEFAULT_MAX_HEALTH_CHECKS;
    requireInt(timeoutMs, 'timeoutMs');
    requireInt(maxChecks, 'maxChecks');
    this.timeoutMs = timeoutMs;
    this.maxChecks = maxChecks;
  }

  /**
   * Adds (or replaces) a health check; returns the function that removes it.
   * @throws ConfigError on a bad name (1-64 of `A-Za-z0-9_.:-`) or a check that is not a
   * function; LimitExceededError past `maxChecks`.
   */
  addHealthCheck(name: string, check: HealthCheck): () => void {
    return this.#add('health', name, check);
  }

  /** Adds (or replaces) a readiness check; returns the function that removes it. Throws as `addHealthCheck`. */
  addReadyCheck(name: string, check: HealthCheck): () => void {
    return this.#add('readiness', name, check);
  }

  /** Names of the health checks, then of the readiness checks. */
  names(): { health: string[]; readiness: string[] } {
    return { health: [...this.#checks.health.keys()], readiness: [...this.#checks.readiness.keys()] };
  }

  /** Runs the health checks. Never rejects: a failing check is a failing verdict. */
  health(): Promise<HealthReport> {
    return this.#report('health');
  }

  /** Runs the health checks and the readiness checks. Never rejects. */
  readiness(): Promise<HealthReport> {
    return this.#report('readiness');
  }

  #add(kind: Kind, name: string, check: HealthCheck): () => void {
    if (typeof name !== 'string' || !CHECK_NAME.test(name))
      throw new ConfigError(`check name must be 1-64 of A-Za-z0-9_.:-, got ${JSON.stringify(name)}`, { key: 'name' });
    if (typeof check !== 'function') throw new ConfigError(`check ${name} must be a function`, { key: name });
    const checks = this.#checks[kind];
    if (!checks.has(name) && checks.size >= this.maxChecks) throw new LimitExceededError(`more than ${this.maxChecks} ${kind} checks`);
    checks.set(name, check);
    return () => {
      if (checks.get(name) === check) checks.delete(name);
    };
  }

  #report(kind: Kind): Promise<HealthReport> {
    const running = this.#inFlight[kind];
    if (running) return running;
    const entries = [...this.#checks.health];
    if (kind === 'readiness') for (const [name, c] of this.#checks.readiness) entries.push([`ready:${name}`, c]);
    const p = Promise.all(entries.map(([name, c]) => this.#run(c).then((s) => [name, s] as const))).then((results) => {
      const checks: Record<string, CheckStatus> = {};
      let ok = true;
      for (const [name, s] of results) {
        checks[name] = s;
        ok &&= s.ok;
      }
      return { ok, checks };
    });
    this.#inFlight[kind] = p;
    const clear = () => {
      if (this.#inFlight[kind] === p) delete this.#inFlight[kind];
    };
    p.then(clear, clear);
    return p;
  }

  async #run(check: HealthCheck): Promise<CheckStatus> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new TimeoutError(`check timed out after ${this.timeoutMs} ms`);
        controller.abort(err);
        reject(err);
      }, this.timeoutMs);
    });
    try {
      const r = await Promise.race([Promise.resolve().then(() => check(controller.signal)), timedOut]);
      return statusOf(r);
    } catch (err) {
      return { ok: false, detail: cut(err instanceof Error ? err.message : String(err)) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function statusOf(r: unknown): CheckStatus {
  if (typeof r === 'boolean') return { ok: r };
  if (r !== null && typeof r === 'object' && typeof (r as { ok?: unknown }).ok === 'boolean') {
    const { ok, detail } = r as { ok: boolean; detail?: unknown };
    return detail === undefined ? { ok } : { ok, detail: cut(typeof detail === 'string' ? detail : describeValue(detail)) };
  }
  // Anything else is a bug in the check: failing, said so, rather than guessed to be fine.
  return { ok: false, detail: `check returned ${r === null ? 'null' : typeof r}, not a boolean or { ok }` };
}

function cut(s: string): string {
  return s.length > MAX_CHECK_DETAIL ? `${s.slice(0, MAX_CHECK_DETAIL)}...` : s;
}
