// The transitions a busy process makes many of at once — submit, report, get — coalesced: the
// calls made together go as one statement over arrays (`unnest`), one round trip and one
// commit for the batch. Each row keeps its own fence and its own clock reading, so a batch
// decides exactly what its calls one by one would have; a lone call runs the single-row
// statement. A batch the server refuses as a whole without doing any of it — a deadlock victim
// (two batches locking shared rows in different orders, which only stale reports can make) or a
// data error (one call's bad value) — is run again call by call, so only the bad call fails.
import type { TaskRow } from './rows.js';
import type { QueueStatements } from './sql.js';
import { Batcher, type BatchJob } from './batcher.js';

/** Runs a statement, returning its rows. */
export type RowQuery = (text: string, values: unknown[]) => Promise<TaskRow[]>;

/** One submit: the values of the single-row `submit` statement, in its order. */
export interface SubmitValues {
  id: string;
  pool: string;
  caps: string[];
  maxRetries: number;
  leaseMs: number;
  now: number;
  deadline: number | null;
  idempotencyKey: string | null;
  body: Uint8Array;
}

/** One report: the lease's fence, the clock reading and the encoded result. */
export interface ReportValues {
  id: string;
  attempt: number;
  agent: string;
  now: number;
  result: Uint8Array;
}

/** Whether a batch's error is one to retry call by call: a deadlock victim (40P01) or a data exception (class 22). */
function retryOneByOne(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code === '40P01' || code.startsWith('22'));
}

/** The coalesced submit, report and get of one queue. */
export class BatchedStatements {
  readonly #query: RowQuery;
  readonly #sql: QueueStatements;
  readonly #submits: Batcher<SubmitValues, TaskRow | undefined>;
  readonly #reports: Batcher<ReportValues, TaskRow | undefined>;
  readonly #gets: Batcher<string, TaskRow | undefined>;

  /** `concurrency`: batches of one kind in flight at once (the pool's size: calls beyond it wait and go together). */
  constructor(query: RowQuery, sql: QueueStatements, maxBatch: number, concurrency: number) {
    this.#query = query;
    this.#sql = sql;
    const make = <I>(one: (i: I) => Promise<TaskRow | undefined>, many: (jobs: BatchJob<I, TaskRow | undefined>[]) => Promise<void>) =>
      new Batcher<I, TaskRow | undefined>({
        max: maxBatch,
        concurrency,
        run: (jobs) => (jobs.length === 1 ? one(jobs[0]!.input).then(jobs[0]!.resolve) : this.#orOneByOne(jobs, one, many)),
      });
    this.#submits = make(
      (v) => this.#submitOne(v),
      (jobs) => this.#submitMany(jobs),
    );
    this.#reports = make(
      (v) => this.#reportOne(v),
      (jobs) => this.#reportMany(jobs),
    );
    this.#gets = make(
      (id) => this.#first(this.#sql.byId, [id]),
      (jobs) => this.#getMany(jobs),
    );
  }

  /** Inserts a task; its row, or `undefined` when the id or idempotency key was taken. */
  submit(v: SubmitValues): Promise<TaskRow | undefined> {
    return this.#submits.push(v);
  }

  /** Completes a task under its lease; the completed row, or `undefined` when the fence refused it. */
  report(v: ReportValues): Promise<TaskRow | undefined> {
    return this.#reports.push(v);
  }

  /** The row of a task, or `undefined`. */
  get(id: string): Promise<TaskRow | undefined> {
    return this.#gets.push(id);
  }

  async #first(text: string, values: unknown[]): Promise<TaskRow | undefined> {
    return (await this.#query(text, values))[0];
  }

  /** A batch, or — when the server refused it whole (see {@link retryOneByOne}) — its calls one by one. */
  async #orOneByOne<I>(jobs: BatchJob<I, TaskRow | undefined>[], one: (i: I) => Promise<TaskRow | undefined>, many: (j: typeof jobs) => Promise<void>) {
    try {
      await many(jobs);
    } catch (err) {
      if (!retryOneByOne(err)) throw err;
      for (const j of jobs) await one(j.input).then(j.resolve, j.reject);
    }
  }

  #submitOne(v: SubmitValues): Promise<TaskRow | undefined> {
    return this.#first(this.#sql.submit, [v.id, v.pool, v.caps, v.maxRetries, v.leaseMs, v.now, v.deadline, v.idempotencyKey, v.body]);
  }

  // A row comes back for each inserted task; a call whose id repeats an earlier one of the batch,
  // or whose key was taken, gets none (the caller reads the first task, as after a single submit).
  async #submitMany(jobs: BatchJob<SubmitValues, TaskRow | undefined>[]): Promise<void> {
    const col = <K extends keyof SubmitValues>(k: K) => jobs.map((j) => j.input[k]);
    const rows = await this.#query(this.#sql.submitMany, [
      col('id'),
      col('pool'),
      jobs.map((j) => JSON.stringify(j.input.caps)),
      col('maxRetries'),
      col('leaseMs'),
      col('now'),
      col('deadline'),
      col('idempotencyKey'),
      col('body'),
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const j of jobs) {
      j.resolve(byId.get(j.input.id));
      byId.delete(j.input.id);
    }
  }

  #reportOne(v: ReportValues): Promise<TaskRow | undefined> {
    return this.#first(this.#sql.report, [v.id, v.attempt, v.agent, v.now, v.result]);
  }

  // Ids in order (locks taken in one order); a second report of an id in the batch runs after it, alone.
  async #reportMany(jobs: BatchJob<ReportValues, TaskRow | undefined>[]): Promise<void> {
    const seen = new Set<string>();
    const firsts: typeof jobs = [];
    const again: typeof jobs = [];
    for (const j of jobs) {
      (seen.has(j.input.id) ? again : firsts).push(j);
      seen.add(j.input.id);
    }
    firsts.sort((a, b) => (a.input.id < b.input.id ? -1 : a.input.id > b.input.id ? 1 : 0));
    const col = <K extends keyof ReportValues>(k: K) => firsts.map((j) => j.input[k]);
    const rows = await this.#query(this.#sql.reportMany, [col('id'), col('attempt'), col('agent'), col('now'), col('result')]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const j of firsts) j.resolve(byId.get(j.input.id));
    for (const j of again) await this.#reportOne(j.input).then(j.resolve, j.reject);
  }

  async #getMany(jobs: BatchJob<string, TaskRow | undefined>[]): Promise<void> {
    const rows = await this.#query(this.#sql.byIds, [[...new Set(jobs.map((j) => j.input))]]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const j of jobs) j.resolve(byId.get(j.input));
  }
}
