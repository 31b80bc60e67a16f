// Trust fed by what agents do: a completed task judged right raises its holder's trust; a result
// judged wrong, a fenced stale report or a message with a rejected signature lowers it. The
// score lives in a trust sink (a policy `TrustModel`, which persists it in its store); this file
// only needs `recordOutcome`, so coordination does not depend on the policy package.
import { ConfigError, ValidationError, positiveIntOption } from '@converge/core';

import type { TaskRecord } from './tasks/records.js';
import type { TaskManagerEvents } from './tasks/options.js';

/** Default most trust updates in flight at once (past it, updates are dropped and counted): 1,024. */
export const DEFAULT_MAX_PENDING_TRUST_UPDATES = 1_024;

/** Where trust goes (`TrustModel` of `@converge/policy` fits). */
export interface TrustSink {
  /** Moves `agentId`'s score toward trusted (`success`) or untrusted (`failure`), scaled by `weight`. */
  recordOutcome(agentId: string, outcome: 'success' | 'failure', weight?: number): unknown;
}

/**
 * Judges a completed task's result: `true` right, `false` wrong, `undefined` no opinion (trust
 * unchanged). The task's `evaluator` names which judgement applies, where the task sets one.
 */
export type TaskJudge = (task: TaskRecord) => boolean | undefined | Promise<boolean | undefined>;

/** What can lower or raise trust, with the weight each step carries. */
export interface TrustFeedWeights {
  /** A result judged right (default 1). */
  right?: number;
  /** A result judged wrong (default 1). */
  wrong?: number;
  /** A report on a void lease (default 1). */
  staleReport?: number;
  /** A message whose signature did not verify (default 1). */
  badSignature?: number;
}

/** Options of `new TrustFeed`. */
export interface TrustFeedOptions {
  /** Where the scores go. */
  trust: TrustSink;
  /** Judges completed tasks; without it, completions do not move trust. */
  judge?: TaskJudge;
  /** Weight of each kind of event. */
  weights?: TrustFeedWeights;
  /** Most updates in flight at once (default `DEFAULT_MAX_PENDING_TRUST_UPDATES`). */
  maxPending?: number;
}

/** Counters of a TrustFeed. */
export interface TrustFeedStats {
  /** Updates toward trusted. */
  raised: number;
  /** Updates toward untrusted. */
  lowered: number;
  /** Completed tasks the judge had no opinion on (or no judge, or no holder). */
  unjudged: number;
  /** Judges or trust writes that threw (the update is lost; the event is not retried). */
  errors: number;
  /** Updates dropped because `maxPending` were in flight. */
  dropped: number;
}

/** Something that emits task events (a `TaskManager`). */
export interface TaskEventSource {
  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof TaskManagerEvents>(event: K, listener: (payload: TaskManagerEvents[K]) => void): () => void;
}

/**
 * Feeds a trust model from task events and message rejections. Updates are asynchronous (task
 * events are synchronous); `flush()` waits for those in flight.
 */
export class TrustFeed {
  readonly #trust: TrustSink;
  readonly #judge: TaskJudge | undefined;
  readonly #w: Required<TrustFeedWeights>;
  readonly #maxPending: number;
  readonly #pending = new Set<Promise<void>>();
  readonly #stats: TrustFeedStats = { raised: 0, lowered: 0, unjudged: 0, errors: 0, dropped: 0 };

  /** @throws ConfigError without a trust sink or with a bad weight. */
  constructor(options: TrustFeedOptions) {
    if (typeof options?.trust?.recordOutcome !== 'function')
      throw new ConfigError('TrustFeed needs trust with recordOutcome(agentId, outcome, weight)', { key: 'trust' });
    if (options.judge !== undefined && typeof options.judge !== 'function') throw new ConfigError('judge must be a function', { key: 'judge' });
    this.#trust = options.trust;
    this.#judge = options.judge;
    const w = options.weights ?? {};
    this.#w = {
      right: weight(w.right, 'right'),
      wrong: weight(w.wrong, 'wrong'),
      staleReport: weight(w.staleReport, 'staleReport'),
      badSignature: weight(w.badSignature, 'badSignature'),
    };
    this.#maxPending = positiveIntOption(options.maxPending, DEFAULT_MAX_PENDING_TRUST_UPDATES, 'maxPending', 'validation');
  }

  /** Listens to `tasks`' `completed` and `fenced` events; returns the function that stops. */
  watch(tasks: TaskEventSource): () => void {
    const offs = [tasks.on('completed', (task) => this.taskCompleted(task)), tasks.on('fenced', (e) => this.staleReport(e.agentId))];
    return () => {
      for (const off of offs) off();
    };
  }

  /** Judges `task` (completed) and moves its holder's trust accordingly. */
  taskCompleted(task: TaskRecord): void {
    const holder = task.assignedTo;
    if (this.#judge === undefined || typeof holder !== 'string' || holder.length === 0) {
      this.#stats.unjudged++;
      return;
    }
    const judge = this.#judge;
    this.#track(async () => {
      const verdict = await judge(task);
      if (verdict === true) await this.#record(holder, 'success', this.#w.right);
      else if (verdict === false) await this.#record(holder, 'failure', this.#w.wrong);
      else this.#stats.unjudged++;
    });
  }

  /** A report by `agentId` on a void lease. */
  staleReport(agentId: string): void {
    this.#track(() => this.#record(agentId, 'failure', this.#w.staleReport));
  }

  /**
   * A message from `sender` refused with `reason`; only a bad signature lowers trust (a sender
   * nobody knows has no score to lower, and a stale or replayed message may be anyone's replay).
   * Fits `MessageVerifierOptions.onReject`.
   */
  messageRejected(sender: string | undefined, reason: string): void {
    if (reason !== 'bad_signature' || typeof sender !== 'string' || sender.length === 0) return;
    this.#track(() => this.#record(sender, 'failure', this.#w.badSignature));
  }

  /** Resolves when every update issued so far has settled. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** A snapshot of the counters. */
  stats(): TrustFeedStats {
    return { ...this.#stats };
  }

  async #record(agentId: string, outcome: 'success' | 'failure', w: number): Promise<void> {
    await this.#trust.recordOutcome(agentId, outcome, w);
    if (outcome === 'success') this.#stats.raised++;
    else this.#stats.lowered++;
  }

  #track(fn: () => Promise<void>): void {
    if (this.#pending.size >= this.#maxPending) {
      this.#stats.dropped++;
      return;
    }
    const p: Promise<void> = Promise.resolve()
      .then(fn)
      .catch(() => {
        this.#stats.errors++;
      })
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }
}

function weight(v: number | undefined, key: string): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValidationError(`TrustFeed weight ${key} must be a finite number >= 0`);
  return v;
}
