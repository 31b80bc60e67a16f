// The PostgreSQL-native TaskQueue: one table, one statement per transition (concurrent submits,
// reports and gets coalesced into one statement per batch), LISTEN/NOTIFY for waking claimers
// and for `watch`.
import { ConfigError, ConflictError, DEFAULT_EXPIRE_LIMIT, fenceError, NotFoundError, positiveIntOption, prepareSubmit, requireLease } from '@converge/core';
import { requireReason, requireTaskId, resolveClaim, resolveList, resolveQueueDefaults, resolveStoreRetry, StoreError } from '@converge/core';
import { TASK_QUEUE_BRAND, TaskEventFeed, throwIfAborted } from '@converge/core';
import type { ClaimedTask, ClaimRequest, ExpiredTask, ExpireOptions, ListTasksOptions, QueueCallOptions, QueuedTask } from '@converge/core';
import type { ResolvedQueueDefaults, SubmitOptions, TaskInit, TaskLease, TaskPage, TaskQueue, TaskQueueDefaults, TaskQueueEvent } from '@converge/core';
import type { WatchOptions, WireValue } from '@converge/core';
import pg from 'pg';
import { NotifyListener } from '../listener.js';
import { usePool, type PoolUse } from '../pool.js';
import { queueStatements, type NotifyMode, type QueueStatements } from './sql.js';
import { encodeBody, encodeResult, expiredOf, rowToTask, type TaskRow } from './rows.js';
import { BatchedStatements } from './batched.js';

/** Default table of a PostgresTaskQueue: `converge_tasks`. */
export const POSTGRES_QUEUE_DEFAULT_TABLE = 'converge_tasks';
/** Default pool size of a PostgresTaskQueue: 4 connections (plus one LISTEN connection). */
export const POSTGRES_QUEUE_DEFAULT_MAX_CONNECTIONS = 4;
/** Default interval at which a waiting claim looks again without a notification (a retry time coming due): 500 ms. */
export const POSTGRES_QUEUE_DEFAULT_POLL_MS = 500;
/** Default most concurrent submits, reports or gets sent as one statement: 500. */
export const POSTGRES_QUEUE_DEFAULT_MAX_BATCH = 500;

/** Options of `new PostgresTaskQueue`. */
export interface PostgresTaskQueueOptions {
  /** `postgres://…` (or pass `pool`). */
  connectionString?: string;
  /** A pool to use (not ended by `stop`); its bigint columns must parse to numbers, see `POSTGRES_QUEUE_TYPES`. */
  pool?: pg.Pool;
  /** Table name (`[a-z_][a-z0-9_]*`, at most 48 characters; default `POSTGRES_QUEUE_DEFAULT_TABLE`). NOTIFY channel: `<table>_events`. */
  table?: string;
  /** Connections of the pool this queue makes (default `POSTGRES_QUEUE_DEFAULT_MAX_CONNECTIONS`). */
  maxConnections?: number;
  /** `synchronous_commit` of this queue's sessions (default: the server's). `false` trades the last commits on a crash for speed. */
  synchronousCommit?: boolean;
  /** Unix ms clock stamped into leases and retry times (default `Date.now`; every client of a table must agree). */
  clock?: () => number;
  /** Lease, retry and backoff defaults. */
  defaults?: TaskQueueDefaults;
  /** Tasks handled per `expire` statement (default `DEFAULT_EXPIRE_LIMIT`). */
  expireLimit?: number;
  /** Poll interval of waiting claims (default `POSTGRES_QUEUE_DEFAULT_POLL_MS`). */
  pollMs?: number;
  /**
   * Most concurrent calls of one kind (submit, report, get) sent as one statement (default
   * `POSTGRES_QUEUE_DEFAULT_MAX_BATCH`; 1 sends each alone). Calls made while as many such
   * statements as the pool has connections are in flight wait for the next batch; every row
   * keeps its own fence.
   */
  maxBatch?: number;
  /**
   * Which transitions NOTIFY (default `'all'`): `'all'` feeds `watch` with every transition;
   * `'wake-ups'` only tasks entering `pending` (what waiting claimers need; NOTIFY serializes
   * commits, so this is faster, and `watch` then sees only those); `'outcomes'` those and tasks
   * reaching a terminal state (`completed`, `failed`, `cancelled`: what a submitter waiting for
   * results needs), not claims or extends.
   */
  notify?: NotifyMode;
  /** Whether to open the LISTEN connection (default true; without it claims wait by polling and `watch` hears nothing). */
  listen?: boolean;
}

/** Counters of one queue instance. */
export interface PostgresTaskQueueStats {
  /** NOTIFY payloads on the events channel that were not events (ignored, counted). */
  badEvents: number;
}

/** Type parsers of the queue's pool: `int8` (bigint columns: Unix ms, sequence) as JS numbers. */
export const POSTGRES_QUEUE_TYPES = {
  getTypeParser: ((oid: number, format?: string): unknown =>
    oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

const NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/**
 * `TaskQueue` on a PostgreSQL table. Claim is one statement (`FOR UPDATE SKIP LOCKED`, a
 * batch at a time), report, fail and extend are one statement each fenced by attempt, holder,
 * lease expiry and deadline; a refused one reads the row to say why. Every transition
 * NOTIFYs `<table>_events`, which wakes waiting claimers and feeds `watch` in every process.
 */
export class PostgresTaskQueue implements TaskQueue {
  /** Brand (see `isTaskQueue`). */
  readonly [TASK_QUEUE_BRAND] = true as const;
  readonly #db: PoolUse;
  readonly #table: string;
  readonly #sql: QueueStatements;
  readonly #clock: () => number;
  readonly #d: ResolvedQueueDefaults;
  readonly #expireLimit: number;
  readonly #pollMs: number;
  readonly #listener: NotifyListener | undefined;
  readonly #feed = new TaskEventFeed();
  readonly #batched: BatchedStatements;
  #started = false;

  constructor(options: PostgresTaskQueueOptions) {
    this.#table = options.table ?? POSTGRES_QUEUE_DEFAULT_TABLE;
    if (!NAME.test(this.#table)) throw new ConfigError(`table must match ${NAME}`, { key: 'table' });
    const channel = `${this.#table}_events`;
    const notify = options.notify ?? 'all';
    if (notify !== 'all' && notify !== 'wake-ups' && notify !== 'outcomes')
      throw new ConfigError("notify must be 'all', 'wake-ups' or 'outcomes'", { key: 'notify' });
    this.#sql = queueStatements(this.#table, channel, notify);
    this.#clock = options.clock ?? Date.now;
    this.#d = resolveQueueDefaults(options.defaults);
    this.#expireLimit = positiveIntOption(options.expireLimit, DEFAULT_EXPIRE_LIMIT, 'expireLimit');
    this.#pollMs = positiveIntOption(options.pollMs, POSTGRES_QUEUE_DEFAULT_POLL_MS, 'pollMs');

    this.#db = usePool(
      options.pool,
      options.connectionString,
      () => ({
        connectionString: options.connectionString,
        application_name: 'converge-task-queue',
        keepAlive: true,
        types: POSTGRES_QUEUE_TYPES,
        ...(options.synchronousCommit === undefined ? {} : { options: `-c synchronous_commit=${options.synchronousCommit ? 'on' : 'off'}` }),
      }),
      () => positiveIntOption(options.maxConnections, POSTGRES_QUEUE_DEFAULT_MAX_CONNECTIONS, 'maxConnections'),
    );
    const maxBatch = positiveIntOption(options.maxBatch, POSTGRES_QUEUE_DEFAULT_MAX_BATCH, 'maxBatch');
    const inFlight = (this.#db.pool.options as { max?: number }).max ?? POSTGRES_QUEUE_DEFAULT_MAX_CONNECTIONS;
    this.#batched = new BatchedStatements(
      async (text, values) => (await this.#db.pool.query({ text, values })).rows as TaskRow[],
      this.#sql,
      maxBatch,
      inFlight,
    );
    this.#db.pool.on('error', () => undefined); // an idle client's error: the pool drops it, the next query reconnects
    if (options.listen !== false) {
      this.#listener = new NotifyListener(this.#db.config, channel, resolveStoreRetry(undefined), {
        onRetry: () => undefined,
        onUnavailable: () => undefined,
        onLost: () => undefined,
        onRestored: () => this.#feed.wakeAll(),
        onNotify: (payload) => this.#feed.deliver(payload),
      });
    }
  }

  /** The table in use. */
  get table(): string {
    return this.#table;
  }

  /** A snapshot of this instance's counters. */
  get stats(): PostgresTaskQueueStats {
    return { badEvents: this.#feed.badEvents };
  }

  /** Creates the table and its indexes if absent (under an advisory lock), opens the LISTEN connection. */
  async start(): Promise<void> {
    if (this.#started) return;
    const c = await this.#db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.#table]);
      for (const ddl of this.#sql.schema) await c.query(ddl);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw new StoreError(`cannot create task table ${this.#table}: ${(err as Error).message}`, { cause: err });
    } finally {
      c.release();
    }
    await this.#listener?.start();
    this.#started = true;
  }

  /** Ends every `watch`, closes the LISTEN connection and (when this queue made it) the pool. */
  async stop(): Promise<void> {
    this.#feed.closeAll();
    await this.#listener?.stop();
    if (this.#db.owned && this.#started) await this.#db.pool.end();
    this.#started = false;
  }

  /** Drops the table (tests and tooling). */
  async drop(): Promise<void> {
    await this.#db.pool.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(this.#table)}`);
  }

  async #rows<R = TaskRow>(text: string, values: unknown[], options: QueueCallOptions): Promise<R[]> {
    throwIfAborted(options.signal);
    return (await this.#db.pool.query({ text, values })).rows as R[];
  }

  /** See `TaskQueue.submit`: one INSERT … ON CONFLICT DO NOTHING (a batch's in one); a conflict reads the existing row. */
  async submit(init: TaskInit, options: SubmitOptions = {}): Promise<QueuedTask> {
    const now = this.#clock();
    const t = prepareSubmit(init, now, options);
    const c = t.constraints;
    throwIfAborted(options.signal);
    const row = await this.#batched.submit({
      id: t.id,
      pool: t.poolId!,
      caps: t.requiredCapabilities,
      maxRetries: c.maxRetries ?? this.#d.maxRetries,
      leaseMs: c.claimTtlMs ?? this.#d.leaseMs,
      now,
      deadline: c.deadline ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      body: encodeBody(t),
    });
    if (row) return rowToTask(row);
    if (options.idempotencyKey !== undefined) {
      const [first] = await this.#rows(this.#sql.byIdempotencyKey, [options.idempotencyKey], options);
      if (first) return rowToTask(first);
    }
    const existing = await this.#find(t.id, options);
    throw new ConflictError(`task ${t.id} already exists`, { currentState: existing?.state });
  }

  /** See `TaskQueue.claim`: one statement per attempt; a waiting claim sleeps until a NOTIFY of its pool (or `pollMs`). */
  async claim(request: ClaimRequest, options: QueueCallOptions = {}): Promise<ClaimedTask[]> {
    const req = resolveClaim(request);
    const deadline = Date.now() + req.waitMs;
    for (;;) {
      const rows = await this.#rows(this.#sql.claim, [req.poolId, this.#clock(), req.capabilities, req.max, req.agentId], options);
      if (rows.length > 0) {
        return rows.map((r) => ({ task: rowToTask(r), lease: { taskId: r.id, agentId: req.agentId, attempt: r.attempts, expiresAt: r.lease_expires_at! } }));
      }
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.#feed.waitForPending(Math.min(left, this.#pollMs), req.poolId, options.signal);
    }
  }

  /** See `TaskQueue.extend`. */
  async extend(lease: TaskLease, options: QueueCallOptions = {}): Promise<TaskLease> {
    const l = requireLease(lease, 'extend');
    const now = this.#clock();
    const [row] = await this.#rows<{ lease_expires_at: number }>(this.#sql.extend, [l.taskId, l.attempt, l.agentId, now], options);
    if (!row) throw await this.#refusal(l, now, options);
    return { taskId: l.taskId, agentId: l.agentId, attempt: l.attempt, expiresAt: row.lease_expires_at };
  }

  /** See `TaskQueue.report`: one UPDATE fenced by attempt (a batch's in one, each row fenced). */
  async report(lease: TaskLease, result: WireValue, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'report');
    const now = this.#clock();
    throwIfAborted(options.signal);
    const row = await this.#batched.report({ id: l.taskId, attempt: l.attempt, agent: l.agentId, now, result: encodeResult(result) });
    if (!row) throw await this.#refusal(l, now, options);
    return rowToTask(row);
  }

  /** See `TaskQueue.fail`: one UPDATE fenced by attempt (retry time or dead letter decided in SQL). */
  async fail(lease: TaskLease, reason: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'fail');
    const why = requireReason(reason);
    const now = this.#clock();
    const [row] = await this.#rows(this.#sql.fail, [l.taskId, l.attempt, l.agentId, now, why, this.#d.retryBaseMs, this.#d.retryMaxMs], options);
    if (!row) throw await this.#refusal(l, now, options);
    return rowToTask(row);
  }

  /** See `TaskQueue.cancel`. */
  async cancel(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const id = requireTaskId(taskId);
    const [row] = await this.#rows(this.#sql.cancel, [id, this.#clock()], options);
    if (row) return rowToTask(row);
    const cur = await this.#find(id, options);
    if (!cur) throw new NotFoundError(`task ${id} not found`);
    throw new ConflictError(`task ${id} is already ${cur.state}`, { currentState: cur.state });
  }

  /** See `TaskQueue.expire`: expired or past-deadline claims, then pending tasks past their deadline. */
  async expire(options: ExpireOptions = {}): Promise<ExpiredTask[]> {
    const now = this.#clock();
    type Changed = Parameters<typeof expiredOf>[0];
    const claimed = await this.#rows<Changed>(this.#sql.expireClaimed, [now, this.#expireLimit], options);
    const pending = await this.#rows<Changed>(this.#sql.expirePending, [now, this.#expireLimit - claimed.length], options);
    return [...claimed, ...pending].map(expiredOf);
  }

  /** See `TaskQueue.get` (concurrent gets are one SELECT). */
  async get(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const id = requireTaskId(taskId);
    throwIfAborted(options.signal);
    const row = await this.#batched.get(id);
    if (!row) throw new NotFoundError(`task ${id} not found`);
    return rowToTask(row);
  }

  /** See `TaskQueue.list`: one indexed range read by id. */
  async list(options: ListTasksOptions = {}): Promise<TaskPage> {
    const { limit, cursor } = resolveList(options);
    const rows = await this.#rows(this.#sql.list, [cursor ?? '', options.state ?? null, options.poolId ?? null, limit + 1], options);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return { tasks: page.map(rowToTask), cursor: more ? page[page.length - 1]!.id : null };
  }

  /** See `TaskQueue.watch`: every process's transitions, as heard on the LISTEN connection (lost while it reconnects). */
  watch(options: WatchOptions = {}): AsyncIterable<TaskQueueEvent> {
    return this.#feed.watch(options);
  }

  async #find(id: string, options: QueueCallOptions): Promise<TaskRow | undefined> {
    return (await this.#rows(this.#sql.byId, [id], options))[0];
  }

  /** Why a fenced statement changed nothing: `NotFoundError` or the `ConflictError` of the fence. */
  async #refusal(l: TaskLease, now: number, options: QueueCallOptions): Promise<Error> {
    const row = await this.#find(l.taskId, options);
    if (!row) return new NotFoundError(`task ${l.taskId} not found`);
    return fenceError(rowToTask(row), l, now) ?? new ConflictError(`task ${l.taskId} changed under the call; try again`, { currentState: row.state });
  }
}
