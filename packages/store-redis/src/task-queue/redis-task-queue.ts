// The Redis-native TaskQueue: one Lua script per transition (see scripts.ts for the key
// layout), pub/sub for waking claimers and for `watch`.
import { AbortError, ConfigError, ConflictError, ConvergeError, DEFAULT_EXPIRE_LIMIT, fenceError, NotFoundError, NotStartedError } from '@converge/core';
import { positiveIntOption, prepareSubmit, requireLease, requireReason, requireTaskId, resolveClaim, resolveList } from '@converge/core';
import { resolveQueueDefaults, resolveStoreRetry, StoreError, storeRetryDelay, TASK_QUEUE_BRAND, TaskEventFeed, throwIfAborted } from '@converge/core';
import type { ClaimedTask, ClaimRequest, ExpiredTask, ExpireOptions, ListTasksOptions, QueueCallOptions, QueuedTask } from '@converge/core';
import type { ResolvedQueueDefaults, StoreRetryOptions, StoreRetryPolicy, SubmitOptions, TaskInit, TaskLease, TaskPage, TaskQueue } from '@converge/core';
import type { TaskQueueDefaults, TaskQueueEvent, WatchOptions, WireValue } from '@converge/core';
import { ErrorReply } from 'redis';
import { BINARY, closeClient, makeClient, type Client } from '../client.js';
import { isTransient } from '../retry.js';
import { CANCEL, CLAIM, EXTEND, FAIL, LIST, RECLAIM, REPORT, SUBMIT, type QueueScript } from './scripts.js';
import { claimRowFields, encodeBody, encodeResult, fieldsToTask, hashToTask, submittedFields, type TaskFields } from './records.js';
import { HeldRecords, REDIS_QUEUE_DEFAULT_HELD_RECORDS } from './held.js';
import { Coalescer, REDIS_QUEUE_DEFAULT_BATCH_BYTES, REDIS_QUEUE_DEFAULT_BATCH_MAX, type CoalescedCall } from './coalesce.js';

/** Default prefix of every key and the channel of a RedisTaskQueue: `converge:tq:`. */
export const REDIS_QUEUE_DEFAULT_PREFIX = 'converge:tq:';
/** Default interval at which a waiting claim looks again without a wake-up (a lost message, a retry time coming due): 500 ms. */
export const REDIS_QUEUE_DEFAULT_POLL_MS = 500;
/** Default cap on the ready entries one claim looks at (entries whose capabilities the agent lacks are stepped over): 1,000. */
export const REDIS_QUEUE_DEFAULT_CLAIM_SCAN = 1_000;
/** Default cap on the task ids one `list` page looks at while filtering (the page may come back short, with a cursor): 10,000. */
export const REDIS_QUEUE_DEFAULT_LIST_SCAN = 10_000;
/** Default `CLIENT SETNAME` of the queue's connections: `converge-task-queue`. */
export const REDIS_QUEUE_DEFAULT_CLIENT_NAME = 'converge-task-queue';
/** Default time to establish a connection: 5,000 ms. */
export const REDIS_QUEUE_DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Default most commands queued on the connection (node-redis `commandsQueueMaxLength`): 10,000. */
export const REDIS_QUEUE_DEFAULT_MAX_QUEUED_COMMANDS = 10_000;

/** Options of `new RedisTaskQueue`. */
export interface RedisTaskQueueOptions {
  /** Server URL (default `redis://127.0.0.1:6379`); `rediss://` for TLS, credentials in the URL. */
  url?: string;
  /** Prefix of every key and of the event channel (default `REDIS_QUEUE_DEFAULT_PREFIX`); on Redis Cluster it must hold a `{hash tag}`. */
  prefix?: string;
  /** Unix ms clock stamped into leases and retry times (default `Date.now`; every client of a prefix must agree). */
  clock?: () => number;
  /** Lease, retry and backoff defaults. */
  defaults?: TaskQueueDefaults;
  /** Tasks handled per `expire` call (default `DEFAULT_EXPIRE_LIMIT`). */
  expireLimit?: number;
  /** Poll interval of waiting claims (default `REDIS_QUEUE_DEFAULT_POLL_MS`). */
  pollMs?: number;
  /** Ready entries one claim looks at, at most (default `REDIS_QUEUE_DEFAULT_CLAIM_SCAN`). */
  claimScan?: number;
  /** Task ids one `list` page looks at, at most (default `REDIS_QUEUE_DEFAULT_LIST_SCAN`). */
  listScan?: number;
  /**
   * Which transitions are published (default `'all'`): `'all'` feeds `watch` with every
   * transition; `'wake-ups'` only tasks entering `pending` (what waiting claimers need; fewer
   * messages, and `watch` then sees only those); `'outcomes'` those and tasks reaching a
   * terminal state (`completed`, `failed`, `cancelled`: what a submitter waiting for results
   * needs), not claims or extends.
   */
  notify?: 'all' | 'wake-ups' | 'outcomes';
  /** Whether to open the subscriber connection (default true; without it claims wait by polling and `watch` hears nothing). */
  listen?: boolean;
  /**
   * Most leased records kept to answer a successful `report` without reading the hash back
   * (default `REDIS_QUEUE_DEFAULT_HELD_RECORDS`); past it the oldest is forgotten and its
   * report reads the record back (one round trip either way).
   */
  heldRecords?: number;
  /**
   * Most submits, and most reports, made in one turn of the event loop that go as one script run
   * (default `REDIS_QUEUE_DEFAULT_BATCH_MAX`; 1: each alone).
   */
  batchMax?: number;
  /** Most body or result bytes in one such run (default `REDIS_QUEUE_DEFAULT_BATCH_BYTES`; a larger call goes alone). */
  batchBytes?: number;
  /** `CLIENT SETNAME` of the connections (default `REDIS_QUEUE_DEFAULT_CLIENT_NAME`). */
  clientName?: string;
  /** Time to establish a connection, ms (default `REDIS_QUEUE_DEFAULT_CONNECT_TIMEOUT_MS`). */
  connectTimeoutMs?: number;
  /** Most commands queued on the connection (default `REDIS_QUEUE_DEFAULT_MAX_QUEUED_COMMANDS`); beyond it calls fail at once. */
  maxQueuedCommands?: number;
  /**
   * Connection attempts of the command connection before calls fail with `ERR_STORE_UNAVAILABLE`
   * (default 5 attempts, 100 ms doubling to 2 s; the next call tries again). Transitions are
   * not retried: see the README on a reply lost with its connection.
   */
  retry?: StoreRetryOptions;
}

/** Counters of one queue instance. */
export interface RedisTaskQueueStats {
  /** Task records found corrupt (`ERR_STORE_CORRUPT`), and ready entries without a task that a claim removed. */
  corrupt: number;
  /** Event messages that were not events (ignored). */
  badEvents: number;
  /** Scripts sent again as EVAL because the server's script cache did not have them (NOSCRIPT). */
  scriptLoads: number;
}

type Reply = unknown[];

/** One submit or report waiting to go in a batch: the script's fields of the call, its clock reading and key. */
interface BatchedCall {
  key: string;
  now: number;
  fields: Array<string | Buffer>;
  bytes: number;
}

/**
 * `TaskQueue` in Redis. Each transition is one Lua script run by EVALSHA (one round trip),
 * atomic on the server: claim picks due tasks of the pool from its ready sorted set and leases
 * a batch at once; report, fail and extend are fenced by attempt, holder, lease expiry and
 * deadline, and a refused one returns the record so the reason costs no second trip; the
 * `expire` sweep walks the lease sorted sets. Every transition PUBLISHes the event on
 * `<prefix>events`, which wakes waiting claimers and feeds `watch` in every process.
 */
export class RedisTaskQueue implements TaskQueue {
  /** Brand (see `isTaskQueue`). */
  readonly [TASK_QUEUE_BRAND] = true as const;
  readonly #url: string;
  readonly #prefix: string;
  readonly #channel: string;
  /** ARGV[2] of every script: '1' every transition, '0' wake-ups, '2' outcomes. */
  readonly #notifyMode: string;
  readonly #clock: () => number;
  readonly #d: ResolvedQueueDefaults;
  readonly #expireLimit: number;
  readonly #pollMs: number;
  readonly #claimScan: number;
  readonly #listScan: number;
  readonly #client: Client;
  readonly #subscriber: Client | undefined;
  readonly #feed = new TaskEventFeed();
  readonly #held: HeldRecords;
  readonly #submits: Coalescer<BatchedCall, Reply>;
  readonly #reports: Coalescer<BatchedCall, Reply>;
  readonly #stats: Omit<RedisTaskQueueStats, 'badEvents'> = { corrupt: 0, scriptLoads: 0 };
  #state: 'new' | 'started' | 'stopped' = 'new';
  #connecting: Promise<void> | undefined;

  constructor(options: RedisTaskQueueOptions = {}) {
    this.#url = options.url ?? 'redis://127.0.0.1:6379';
    if (typeof this.#url !== 'string' || !/^rediss?:\/\//.test(this.#url)) throw new ConfigError('url must start with redis:// or rediss://', { key: 'url' });
    this.#prefix = options.prefix ?? REDIS_QUEUE_DEFAULT_PREFIX;
    if (typeof this.#prefix !== 'string' || this.#prefix.length > 256)
      throw new ConfigError('prefix must be a string of at most 256 characters', { key: 'prefix' });
    this.#channel = `${this.#prefix}events`;
    const notify = options.notify ?? 'all';
    const modes = { all: '1', 'wake-ups': '0', outcomes: '2' } as const;
    if (!Object.hasOwn(modes, notify)) throw new ConfigError("notify must be 'all', 'wake-ups' or 'outcomes'", { key: 'notify' });
    this.#notifyMode = modes[notify];
    this.#clock = options.clock ?? Date.now;
    this.#d = resolveQueueDefaults(options.defaults);
    this.#expireLimit = positiveIntOption(options.expireLimit, DEFAULT_EXPIRE_LIMIT, 'expireLimit');
    this.#pollMs = positiveIntOption(options.pollMs, REDIS_QUEUE_DEFAULT_POLL_MS, 'pollMs');
    this.#claimScan = positiveIntOption(options.claimScan, REDIS_QUEUE_DEFAULT_CLAIM_SCAN, 'claimScan');
    this.#listScan = positiveIntOption(options.listScan, REDIS_QUEUE_DEFAULT_LIST_SCAN, 'listScan');
    this.#held = new HeldRecords(positiveIntOption(options.heldRecords, REDIS_QUEUE_DEFAULT_HELD_RECORDS, 'heldRecords'));
    const max = positiveIntOption(options.batchMax, REDIS_QUEUE_DEFAULT_BATCH_MAX, 'batchMax');
    const maxBytes = positiveIntOption(options.batchBytes, REDIS_QUEUE_DEFAULT_BATCH_BYTES, 'batchBytes');
    const batcher = (s: QueueScript) => new Coalescer<BatchedCall, Reply>({ max, maxBytes, bytes: (c) => c.bytes, send: (calls) => this.#sendBatch(s, calls) });
    this.#submits = batcher(SUBMIT);
    this.#reports = batcher(REPORT);
    const name = options.clientName ?? REDIS_QUEUE_DEFAULT_CLIENT_NAME;
    if (typeof name !== 'string' || !/^[!-~]{1,64}$/.test(name))
      throw new ConfigError('clientName must be 1-64 printable ASCII characters without spaces', { key: 'clientName' });
    const timeout = positiveIntOption(options.connectTimeoutMs, REDIS_QUEUE_DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs');
    const queue = positiveIntOption(options.maxQueuedCommands, REDIS_QUEUE_DEFAULT_MAX_QUEUED_COMMANDS, 'maxQueuedCommands');
    const policy: StoreRetryPolicy = resolveStoreRetry(options.retry);
    // Commands: a bounded number of reconnect attempts (calls made meanwhile wait in the bounded
    // command queue), then calls fail with ERR_STORE_UNAVAILABLE and the next one connects anew.
    this.#client = makeClient(this.#url, name, timeout, queue, (n) =>
      n + 1 >= policy.attempts ? new Error(`gave up after ${policy.attempts} connection attempts`) : storeRetryDelay(policy, n),
    );
    this.#client.on('error', () => undefined); // surfaced by the calls themselves
    if (options.listen !== false) {
      // The wake-up feed keeps reconnecting while the queue runs (capped backoff); node-redis
      // subscribes again on reconnect, and waiting claims poll meanwhile.
      this.#subscriber = makeClient(this.#url, name, timeout, queue, (n) => storeRetryDelay(policy, n));
      this.#subscriber.on('error', () => undefined);
      // After a reconnect, messages may have been missed: let every waiter look again.
      this.#subscriber.on('ready', () => this.#feed.wakeAll());
    }
  }

  /** The prefix in use. */
  get prefix(): string {
    return this.#prefix;
  }

  /** A snapshot of this instance's counters. */
  get stats(): RedisTaskQueueStats {
    return { ...this.#stats, badEvents: this.#feed.badEvents };
  }

  /** Connects (and subscribes to the event channel). A stopped queue cannot be started again. */
  async start(): Promise<void> {
    if (this.#state === 'started') return;
    if (this.#state === 'stopped') throw new NotStartedError('a stopped RedisTaskQueue cannot be restarted; create a new one');
    try {
      await this.#client.connect();
      // The command connection is up, so the server is: the subscriber's own connect follows.
      if (this.#subscriber) {
        await this.#subscriber.connect();
        await this.#subscriber.subscribe(this.#channel, (message: string) => this.#feed.deliver(message));
      }
    } catch (err) {
      await Promise.all([closeClient(this.#client), this.#subscriber && closeClient(this.#subscriber)]);
      throw new StoreError(`cannot connect the task queue to Redis: ${(err as Error).message}`, { code: 'ERR_STORE_UNAVAILABLE', cause: err });
    }
    this.#state = 'started';
  }

  /** Ends every `watch` and closes both connections. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const was = this.#state;
    this.#state = 'stopped';
    this.#feed.closeAll();
    this.#feed.wakeAll();
    this.#held.clear();
    if (was === 'started') await Promise.all([closeClient(this.#client), this.#subscriber && closeClient(this.#subscriber)]);
  }

  /** Deletes every key under the prefix (tests and tooling; SCAN walks the whole database). */
  async drop(): Promise<void> {
    const match = `${this.#prefix.replace(/[\\*?[\]^]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, keys] = (await this.#send(['SCAN', cursor, 'MATCH', match, 'COUNT', '1000'])) as [Buffer, Buffer[]];
      cursor = next.toString('latin1');
      if (keys.length > 0) await this.#send(['UNLINK', ...keys]);
    } while (cursor !== '0');
  }

  /**
   * See `TaskQueue.submit`: one script (the idempotency key, the id check and the insert at
   * once), shared with the other submits made in the same turn of the event loop (up to
   * `batchMax`); a created task's record is built from what was sent, not read back.
   */
  async submit(init: TaskInit, options: SubmitOptions = {}): Promise<QueuedTask> {
    const now = this.#now();
    const t = prepareSubmit(init, now, options);
    const c = t.constraints;
    const caps = JSON.stringify(t.requiredCapabilities);
    const deadline = c.deadline === undefined ? '' : String(Math.ceil(c.deadline));
    const body = encodeBody(t);
    const fields = [
      t.id,
      t.poolId!,
      caps,
      String(c.maxRetries ?? this.#d.maxRetries),
      String(c.claimTtlMs ?? this.#d.leaseMs),
      deadline,
      options.idempotencyKey ?? '',
      body,
      String(now),
    ];
    throwIfAborted(options.signal);
    const [code, rec] = await this.#submits.push({ key: this.#taskKey(t.id), now, fields, bytes: body.length }, options.signal);
    if (code === 0) throw new ConflictError(`task ${t.id} already exists`, { currentState: str(rec) });
    if (code === 1) return this.#record(t.id, submittedFields(t, body, caps, deadline, now));
    return this.#task(t.id, rec);
  }

  /** See `TaskQueue.claim`: one script per attempt; a waiting claim sleeps until a wake-up of its pool, the next due time or `pollMs`. */
  async claim(request: ClaimRequest, options: QueueCallOptions = {}): Promise<ClaimedTask[]> {
    const req = resolveClaim(request);
    const deadline = Date.now() + req.waitMs;
    const ready = `${this.#prefix}r:${req.poolId}`;
    for (;;) {
      const now = this.#now();
      const [recs, nextDue, orphans] = await this.#run(
        CLAIM,
        ready,
        [req.poolId, req.agentId, String(req.max), String(this.#claimScan), ...req.capabilities],
        now,
        options,
      );
      if (typeof orphans === 'number' && orphans > 0) this.#stats.corrupt += orphans;
      const list = recs as Reply;
      if (list.length > 0) {
        return list.map((r) => {
          const id = Array.isArray(r) && Buffer.isBuffer(r[0]) ? r[0].toString('utf8') : '(claimed)';
          const fields = this.#decoded(() => claimRowFields(this.#taskKey(id), r, req.poolId, req.agentId, now));
          const task = this.#record(id, fields);
          this.#held.put(task.id, task.attempts, req.agentId, fields);
          return { task, lease: { taskId: task.id, agentId: req.agentId, attempt: task.attempts, expiresAt: task.leaseExpiresAt! } };
        });
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.#state !== 'started') return [];
      // Sleep until a task of the pool enters pending, the earliest retry comes due, or pollMs.
      const due = str(nextDue);
      const untilDue = due === '' ? Infinity : Math.max(1, Number(due) - this.#now());
      await this.#feed.waitForPending(Math.min(left, this.#pollMs, untilDue), req.poolId, options.signal);
      if (this.#state !== 'started') return [];
    }
  }

  /** See `TaskQueue.extend`: one fenced script. */
  async extend(lease: TaskLease, options: QueueCallOptions = {}): Promise<TaskLease> {
    const l = requireLease(lease, 'extend');
    const now = this.#now();
    const [code, v] = await this.#run(EXTEND, this.#taskKey(l.taskId), [l.taskId, String(l.attempt), l.agentId], now, options);
    if (code !== 1) {
      this.#held.drop(l.taskId);
      throw this.#refusal(l, code, v, now);
    }
    return { taskId: l.taskId, agentId: l.agentId, attempt: l.attempt, expiresAt: Number(str(v)) };
  }

  /**
   * See `TaskQueue.report`: one script fenced by attempt, shared with the other reports made in
   * the same turn of the event loop (up to `batchMax`, each fenced at its own clock reading).
   * When this instance leased the task, the completed record is the claimed one with what
   * report changes (no read-back).
   */
  async report(lease: TaskLease, result: WireValue, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'report');
    const now = this.#now();
    const held = this.#held.get(l);
    const bytes = encodeResult(result);
    const fields = [l.taskId, String(l.attempt), l.agentId, bytes, held ? '0' : '1', String(now)];
    throwIfAborted(options.signal);
    const [code, v] = await this.#reports.push({ key: this.#taskKey(l.taskId), now, fields, bytes: bytes.length }, options.signal);
    this.#held.drop(l.taskId);
    if (code !== 1) throw this.#refusal(l, code, v, now);
    if (!held) return this.#task(l.taskId, v);
    const done: TaskFields = new Map(held);
    done.set('state', Buffer.from('completed', 'latin1'));
    done.set('result', bytes);
    done.set('updated_at', Buffer.from(String(now), 'latin1'));
    done.delete('lease_expires_at');
    return this.#record(l.taskId, done);
  }

  /** See `TaskQueue.fail`: one script fenced by attempt (retry time or dead letter decided on the server). */
  async fail(lease: TaskLease, reason: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'fail');
    const why = requireReason(reason);
    const now = this.#now();
    const args = [l.taskId, String(l.attempt), l.agentId, why, String(this.#d.retryBaseMs), String(this.#d.retryMaxMs)];
    const [code, v] = await this.#run(FAIL, this.#taskKey(l.taskId), args, now, options);
    this.#held.drop(l.taskId);
    if (code !== 1) throw this.#refusal(l, code, v, now);
    return this.#task(l.taskId, v);
  }

  /** See `TaskQueue.cancel`. */
  async cancel(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const id = requireTaskId(taskId);
    const [code, v] = await this.#run(CANCEL, this.#taskKey(id), [id], this.#now(), options);
    if (code === -1) throw new NotFoundError(`task ${id} not found`);
    if (code === 0) throw new ConflictError(`task ${id} is already ${str(v)}`, { currentState: str(v) });
    return this.#task(id, v);
  }

  /** See `TaskQueue.expire`: one script over every pool's expired leases, then the tasks past their deadline. */
  async expire(options: ExpireOptions = {}): Promise<ExpiredTask[]> {
    const out = await this.#run(RECLAIM, `${this.#prefix}d`, [String(this.#expireLimit)], this.#now(), options);
    return out.map((row) => {
      const [id, agent, attempt, outcome] = row as [Buffer, Buffer, number, Buffer];
      return {
        taskId: id.toString('utf8'),
        agentId: agent.length === 0 ? null : agent.toString('utf8'),
        attempt,
        outcome: outcome.toString('latin1') as ExpiredTask['outcome'],
      };
    });
  }

  /** See `TaskQueue.get`: one HGETALL. */
  async get(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const id = requireTaskId(taskId);
    throwIfAborted(options.signal);
    const flat = (await this.#send(['HGETALL', this.#taskKey(id)], options.signal)) as Reply;
    if (flat.length === 0) throw new NotFoundError(`task ${id} not found`);
    return this.#task(id, flat);
  }

  /** See `TaskQueue.list`: one script walking ids in order (at most `listScan` of them per page). */
  async list(options: ListTasksOptions = {}): Promise<TaskPage> {
    const { limit, cursor } = resolveList(options);
    const args = [cursor ?? '', options.state ?? '', options.poolId ?? '', String(limit + 1), String(this.#listScan)];
    const [recs, last, capped] = await this.#run(LIST, `${this.#prefix}ids`, args, this.#now(), options);
    const tasks = (recs as Reply).map((r) => this.#task('(listed)', r));
    if (tasks.length > limit) return { tasks: tasks.slice(0, limit), cursor: tasks[limit - 1]!.id };
    // The scan bound stopped the walk: a short page, resumed after the last id looked at.
    return { tasks, cursor: capped === 1 ? str(last) : null };
  }

  /** See `TaskQueue.watch`: every process's transitions, as heard on the subscriber connection (lost while it reconnects). */
  watch(options: WatchOptions = {}): AsyncIterable<TaskQueueEvent> {
    const channel = this.#feed.watch(options);
    if (this.#state === 'stopped') channel.close();
    return channel;
  }

  #now(): number {
    return Math.floor(this.#clock());
  }

  #taskKey(id: string): string {
    return `${this.#prefix}t:${id}`;
  }

  #task(id: string, flat: unknown): QueuedTask {
    return this.#decoded(() => hashToTask(this.#taskKey(id), flat));
  }

  #record(id: string, fields: TaskFields): QueuedTask {
    return this.#decoded(() => fieldsToTask(this.#taskKey(id), fields));
  }

  /** Runs a decoding step, counting a corrupt record. */
  #decoded<T>(decode: () => T): T {
    try {
      return decode();
    } catch (err) {
      this.#stats.corrupt++;
      throw err;
    }
  }

  /** Why a fenced script changed nothing: `NotFoundError`, or the `ConflictError` of the fence on the record it returned. */
  #refusal(l: TaskLease, code: unknown, rec: unknown, now: number): Error {
    if (code === -1) return new NotFoundError(`task ${l.taskId} not found`);
    const task = this.#task(l.taskId, rec);
    return fenceError(task, l, now) ?? new ConflictError(`task ${l.taskId} changed under the call; try again`, { currentState: task.state });
  }

  /** Runs one batch of submits or reports (`SUBMIT`, `REPORT`): one script run, one reply per call. */
  async #sendBatch(s: QueueScript, calls: CoalescedCall<BatchedCall, Reply>[]): Promise<void> {
    const first = calls[0]!.input;
    const args: Array<string | Buffer> = [String(calls.length)];
    for (const c of calls) for (const f of c.input.fields) args.push(f);
    const out = await this.#run(s, first.key, args, first.now, {});
    for (let i = 0; i < calls.length; i++) {
      const reply = out[i];
      if (Array.isArray(reply)) calls[i]!.resolve(reply);
      else calls[i]!.reject(new StoreError(`the ${s.name} script answered ${calls.length} calls with ${out.length} replies`, { code: 'ERR_STORE' }));
    }
  }

  /** Runs a script: EVALSHA, or EVAL when the server's script cache lacks it. */
  async #run(s: QueueScript, key: string, args: Array<string | Buffer>, now: number, options: QueueCallOptions): Promise<Reply> {
    throwIfAborted(options.signal);
    const tail = ['1', key, this.#prefix, this.#notifyMode, String(now), ...args];
    try {
      return (await this.#send(['EVALSHA', s.sha, ...tail], options.signal)) as Reply;
    } catch (err) {
      if (!(StoreError.is(err) && err.cause instanceof ErrorReply && err.cause.message.startsWith('NOSCRIPT'))) throw err;
      this.#stats.scriptLoads++;
      return (await this.#send(['EVAL', s.source, ...tail], options.signal)) as Reply;
    }
  }

  async #send(args: Array<string | Buffer>, signal?: AbortSignal): Promise<unknown> {
    if (this.#state !== 'started') throw new NotStartedError(`RedisTaskQueue is ${this.#state === 'new' ? 'not started' : 'stopped'}`);
    try {
      if (!this.#client.isOpen) await this.#reconnect();
      return await this.#client.sendCommand(args, signal ? { ...BINARY, abortSignal: signal } : BINARY);
    } catch (err) {
      if (ConvergeError.is(err)) throw err;
      // A command still queued when the signal fired was never sent.
      if (signal?.aborted && !ConvergeError.is(err)) throw new AbortError('the operation was aborted', { cause: signal.reason });
      if (err instanceof ErrorReply && err.message.includes('WRONGTYPE')) {
        this.#stats.corrupt++;
        return Promise.reject(
          new StoreError(`a task queue key under ${this.#prefix} has the wrong type: ${err.message}`, { code: 'ERR_STORE_CORRUPT', cause: err }),
        );
      }
      // A transient failure (the connection broke) may have run the script or not: not retried.
      const code = isTransient(err) ? 'ERR_STORE_UNAVAILABLE' : 'ERR_STORE';
      throw new StoreError(`Redis task queue ${String(args[0])} failed: ${(err as Error).message}`, { code, cause: err });
    }
  }

  // After the reconnect attempts ran out the client is closed: the next call connects again.
  async #reconnect(): Promise<void> {
    this.#connecting ??= this.#client
      .connect()
      .then(() => undefined)
      .catch((err: unknown) => {
        throw new StoreError(`Redis unavailable: ${(err as Error).message}`, { code: 'ERR_STORE_UNAVAILABLE', cause: err });
      })
      .finally(() => (this.#connecting = undefined));
    await this.#connecting;
  }
}

function str(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return v === null || v === undefined ? '' : String(v as unknown);
}
