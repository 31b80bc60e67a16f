/**
 * `TrustModel`: a bounded score per agent, moved by task outcomes, decaying toward a neutral
 * value, optionally persisted in a Store under `trust:<agentId>`.
 */
import { ConfigError, isFloat64, ValidationError, type Store } from '@converge/core';
import { checkInteger, checkNumber, wallClock, type Clock } from './common.js';

/** Default largest number of agents whose score is kept. */
export const DEFAULT_MAX_TRUST_AGENTS = 10_000;
/** Default learning rate: the share of the distance to the target covered by one outcome of weight 1. */
export const DEFAULT_TRUST_LEARNING_RATE = 0.1;
/** Longest agent id accepted (ids become store keys). */
export const MAX_TRUST_AGENT_ID_LENGTH = 512;
/** Prefix of the store keys of a `TrustModel`. */
export const TRUST_KEY_PREFIX = 'trust:';

/** Options of `TrustModel`. */
export interface TrustModelOptions {
  /** Where scores persist (`trust:<agentId>` → `{ score, updatedAt }`). Absent: in memory only. */
  store?: Store;
  /** Largest number of agents kept (default 10 000); the least recently updated is evicted (and deleted from the store). */
  maxAgents?: number;
  /** Score of an unknown agent, and the value scores decay toward (default 0.5). */
  initial?: number;
  /** Lowest score (default 0). */
  min?: number;
  /** Highest score (default 1). */
  max?: number;
  /** Half-life of the distance to `initial`, in ms. Absent: no decay. */
  decayHalfLifeMs?: number;
  /** Share of the way to `max` (success) or `min` (failure) one outcome of weight 1 moves the score (default 0.1, in (0, 1]). */
  learningRate?: number;
  /** Wall-clock milliseconds (default `Date.now`); decay survives restarts, so it is wall time. */
  clock?: Clock;
}

/** The outcome of a task, as it bears on trust. */
export type TrustOutcome = 'success' | 'failure';

/** A stored trust record. */
export interface TrustRecord {
  /** The score when last updated (before any decay since). */
  score: number;
  /** Wall-clock ms of the last update. */
  updatedAt: number;
}

/** Counters of a `TrustModel`. */
export interface TrustModelStats {
  /** Agents with a score now. */
  agents: number;
  /** Outcomes recorded. */
  outcomes: number;
  /** Agents evicted to stay within `maxAgents`. */
  evictions: number;
  /** Stored records skipped by `load()` because they were malformed. */
  rejectedRecords: number;
}

/**
 * Scores in `[min, max]`, starting at `initial`. Each outcome moves the score toward `max`
 * (success) or `min` (failure) by `learningRate × weight` of the remaining distance (capped at
 * the whole distance). With `decayHalfLifeMs`, the distance to `initial` halves every half-life
 * without news. Memory is the source of truth between `load()`s; each update is written
 * through to the store, in order per agent.
 */
export class TrustModel {
  readonly #store: Store | undefined;
  readonly #maxAgents: number;
  readonly #initial: number;
  readonly #min: number;
  readonly #max: number;
  readonly #halfLife: number | undefined;
  readonly #rate: number;
  readonly #clock: Clock;
  // Insertion order is update order: the first entry is the least recently updated.
  readonly #records = new Map<string, TrustRecord>();
  readonly #writes = new Map<string, Promise<void>>();
  readonly #counts = { outcomes: 0, evictions: 0, rejectedRecords: 0 };

  /** @throws ConfigError on bad settings (e.g. `initial` outside `[min, max]`). */
  constructor(options: TrustModelOptions = {}) {
    this.#store = options.store;
    this.#maxAgents = checkInteger('maxAgents', options.maxAgents ?? DEFAULT_MAX_TRUST_AGENTS, 1);
    this.#min = checkNumber('min', options.min ?? 0, Number.NEGATIVE_INFINITY);
    this.#max = checkNumber('max', options.max ?? 1, Number.NEGATIVE_INFINITY);
    if (!(this.#min < this.#max)) throw new ConfigError('min must be below max', { key: 'min' });
    this.#initial = checkNumber('initial', options.initial ?? 0.5, this.#min, this.#max);
    this.#halfLife = options.decayHalfLifeMs === undefined ? undefined : checkNumber('decayHalfLifeMs', options.decayHalfLifeMs, Number.MIN_VALUE);
    this.#rate = checkNumber('learningRate', options.learningRate ?? DEFAULT_TRUST_LEARNING_RATE, Number.MIN_VALUE, 1);
    this.#clock = options.clock ?? wallClock;
  }

  /** The current score of `agentId` (with decay applied); `initial` for an unknown agent. */
  score(agentId: string): number {
    const r = this.#records.get(agentId);
    return r ? this.#decayed(r, this.#clock()) : this.#initial;
  }

  /** Whether the score of `agentId` is at least `threshold`. */
  isTrusted(agentId: string, threshold: number): boolean {
    if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new ValidationError('threshold must be a number');
    return this.score(agentId) >= threshold;
  }

  /**
   * Moves the score of `agentId` after a task outcome; returns the new score. `weight` (default
   * 1, finite, >= 0) scales the step. Resolves once the store (if any) holds the new score.
   * @throws ValidationError on a bad agent id, outcome or weight; the store's error if the
   * write fails (the in-memory score is updated regardless and written again on the next update).
   */
  async recordOutcome(agentId: string, outcome: TrustOutcome, weight = 1): Promise<number> {
    checkAgentId(agentId);
    if (outcome !== 'success' && outcome !== 'failure') throw new ValidationError(`outcome must be 'success' or 'failure', got ${String(outcome)}`);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
      throw new ValidationError(`weight must be a finite number >= 0, got ${String(weight)}`);
    const now = this.#clock();
    const current = this.score(agentId);
    const target = outcome === 'success' ? this.#max : this.#min;
    const step = Math.min(1, this.#rate * weight);
    const score = clamp(current + (target - current) * step, this.#min, this.#max);
    this.#counts.outcomes++;
    this.#set(agentId, { score, updatedAt: now });
    await this.#persist(agentId);
    return score;
  }

  /** Forgets `agentId` (back to `initial`), in memory and in the store. */
  async forget(agentId: string): Promise<void> {
    checkAgentId(agentId);
    this.#records.delete(agentId);
    await this.#persist(agentId);
  }

  /** Agents with a score, least recently updated first. */
  agents(): string[] {
    return [...this.#records.keys()];
  }

  /** A snapshot of the counters. */
  stats(): TrustModelStats {
    return { agents: this.#records.size, ...this.#counts };
  }

  /**
   * Replaces the in-memory scores with those in the store. Malformed records are skipped and
   * counted; beyond `maxAgents`, the least recently updated records are deleted from the store.
   * Without a store, does nothing.
   */
  async load(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    await this.flush();
    const loaded: [string, TrustRecord][] = [];
    for (const key of await store.list(TRUST_KEY_PREFIX)) {
      const agentId = key.slice(TRUST_KEY_PREFIX.length);
      const rec = parseRecord(await store.get(key), this.#min, this.#max);
      if (!rec || agentId.length === 0) {
        this.#counts.rejectedRecords++;
        continue;
      }
      loaded.push([agentId, rec]);
    }
    loaded.sort((a, b) => a[1].updatedAt - b[1].updatedAt || (a[0] < b[0] ? -1 : 1));
    const excess = Math.max(0, loaded.length - this.#maxAgents);
    for (const [agentId] of loaded.slice(0, excess)) {
      await store.delete(TRUST_KEY_PREFIX + agentId);
      this.#counts.evictions++;
    }
    this.#records.clear();
    for (const [agentId, rec] of loaded.slice(excess)) this.#records.set(agentId, rec);
  }

  /** Loads the scores from the store (see `load`). */
  async start(): Promise<void> {
    await this.load();
  }

  /** Waits for pending store writes. */
  async stop(): Promise<void> {
    await this.flush();
  }

  /** Resolves when every write issued so far has settled. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#writes.values()]);
  }

  #decayed(r: TrustRecord, now: number): number {
    if (this.#halfLife === undefined) return r.score;
    const elapsed = Math.max(0, now - r.updatedAt);
    return this.#initial + (r.score - this.#initial) * Math.pow(2, -elapsed / this.#halfLife);
  }

  #set(agentId: string, rec: TrustRecord): void {
    this.#records.delete(agentId);
    this.#records.set(agentId, rec);
    while (this.#records.size > this.#maxAgents) {
      const oldest = this.#records.keys().next().value as string;
      this.#records.delete(oldest);
      this.#counts.evictions++;
      // Not awaited by the caller's outcome; errors surface on the evicted agent's next write.
      this.#persist(oldest).catch(() => undefined);
    }
  }

  /** Writes the in-memory state of `agentId` (or deletes it), after any earlier write of that agent. */
  #persist(agentId: string): Promise<void> {
    const store = this.#store;
    if (!store) return Promise.resolve();
    const previous = this.#writes.get(agentId) ?? Promise.resolve();
    const key = TRUST_KEY_PREFIX + agentId;
    const write = previous
      .catch(() => undefined)
      .then(async () => {
        // Written when its turn comes, so the last write always carries the latest state.
        const rec = this.#records.get(agentId);
        if (rec) await store.put(key, { score: rec.score, updatedAt: rec.updatedAt });
        else await store.delete(key);
      });
    this.#writes.set(agentId, write);
    const done = (): void => {
      if (this.#writes.get(agentId) === write) this.#writes.delete(agentId);
    };
    write.then(done, done);
    return write;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function checkAgentId(agentId: string): void {
  if (typeof agentId !== 'string' || agentId.length === 0 || agentId.length > MAX_TRUST_AGENT_ID_LENGTH) {
    throw new ValidationError(`agent id must be a non-empty string of at most ${MAX_TRUST_AGENT_ID_LENGTH} characters`);
  }
}

function num(v: unknown): number | undefined {
  const n = isFloat64(v) ? v.value : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function parseRecord(v: unknown, min: number, max: number): TrustRecord | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const score = num(o.score);
  const updatedAt = num(o.updatedAt);
  if (score === undefined || updatedAt === undefined) return undefined;
  return { score: clamp(score, min, max), updatedAt };
}
