// The JetStream-native TaskQueue: a work-queue stream carries one message per task (subject
// per pool, a durable pull consumer per pool), a KV-layout bucket holds the task records.
// The bucket is the authority: every transition is a revision CAS on the record, and the
// record's attempt number is what fences a stale lease. The message is the delivery: claim =
// fetch, report = ack, extend = in-progress, retry = nak with delay, dead letter = term plus a
// copy on the pool's dead-letter subject, submit = publish with `Nats-Msg-Id`.
import {
  AbortError,
  ConfigError,
  ConflictError,
  DEFAULT_EXPIRE_LIMIT,
  encodeValue,
  RawMsgpack,
  fenceError,
  newQueuedTask,
  NotFoundError,
} from '@converge/core';
import { prepareSubmit, QueueFullError, requireLease, requireReason, resolveClaim, resolveList, resolveQueueDefaults, StoreError } from '@converge/core';
import { TASK_QUEUE_BRAND, TaskEventChannel, throwIfAborted, ValidationError } from '@converge/core';
import type { ClaimedTask, ClaimRequest, ExpiredTask, ExpireOptions, ListTasksOptions, QueueCallOptions, QueuedTask, ResolvedClaim } from '@converge/core';
import type { ResolvedQueueDefaults, SubmitOptions, TaskInit, TaskLease, TaskPage, TaskQueue, TaskQueueEvent, WatchOptions, WireValue } from '@converge/core';
import { connect, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { CAS_ROUNDS, IDEMPOTENT_WAIT_MS, JETSTREAM_QUEUE_DEFAULT_MAX_ACK_PENDING, JETSTREAM_QUEUE_DEFAULT_MAX_DELIVER } from './config.js';
import { JETSTREAM_QUEUE_DEFAULT_MAX_TASKS, JETSTREAM_QUEUE_DEFAULT_NAME, JETSTREAM_QUEUE_DEFAULT_READ_AHEAD } from './config.js';
import { JETSTREAM_QUEUE_FIRST_FETCH_EXPIRES_MS, JETSTREAM_QUEUE_MAX_POOL_ID, JETSTREAM_QUEUE_NO_WAIT_EXPIRES_MS } from './config.js';
import { JETSTREAM_QUEUE_SKIP_DELAY_MS, jetstreamQueueAckWaitMs, NAME, nonNegative, positive, requireId, sleep } from './config.js';
import type { JetStreamQueueStats, JetStreamTaskQueueOptions } from './config.js';
import { ensurePoolConsumer, ensureWorkStream, mismatchMode } from './consumer.js';
import { heldTaskIds, messageBody } from './held.js';
import { Hints } from './hints.js';
import { Bucket, publishAcked, Replies, token, untoken, type Entry } from './bucket.js';
import { Pulls, parseAckReply } from './pulls.js';
import {
  EVENT_HEADER,
  cancelled,
  hintDue,
  claimed,
  decodeRecord,
  encodeRecord,
  eventHeaders,
  expiredClaim,
  expiredPending,
  failed,
  isLive,
  leaseMsOf,
  pageOf,
  parseEvent,
  reported,
  sweepable,
  unclaimable,
  type TaskRecord,
} from './records.js';

const NS_PER_MS = 1_000_000;
/** The header JetStream deduplicates publishes by (within the stream's duplicate window). */
const MSG_ID = 'Nats-Msg-Id';
/** Pool task subjects one client keeps (forgotten all at once past this). */
const POOL_SUBJECTS_KEPT = 1_024;

/** A delivered message as a claim decides it. */
interface Delivery {
  /** Its reply subject (to ack, nak or term it). */
  reply: string | null;
  /** How many times the consumer delivered it (this delivery included). */
  deliveries: number;
  /** Whether this claim saw it before (a message given back and delivered again). */
  repeat: boolean;
  /** Whether the claim is a waiting one. */
  waiting: boolean;
}

/** A task record and the revision it was read (or written) at. */
interface Current {
  revision: number;
  record: TaskRecord;
}

/** `StoreError` code of a task record whose bytes are not a record. */
const UNREADABLE = 'ERR_TASK_RECORD_UNREADABLE';
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * `TaskQueue` on NATS JetStream. Per pool: subject `cvq.<name>.t.<pool>` in the work-queue
 * stream `CVQ_<name>`, durable pull consumer `p_<pool>`, dead letters on `cvq.<name>.dlq.<pool>`.
 * Records: bucket `cvq_<name>` (keys `r.<id>` records, `k.<key>` idempotency keys, `l.<id>`
 * deadline hints). The sweep finds claimed tasks through the messages the pool consumers hold
 * (`held.ts`): a claim + report cycle is a fetch, two record writes and an ack, and while a
 * client's claims come back to back its fetches read ahead (`readAhead`), so most of its claims
 * need no fetch of their own. Every client of a queue must share the clock.
 */
export class JetStreamTaskQueue implements TaskQueue {
  /** Brand (see `isTaskQueue`). */
  readonly [TASK_QUEUE_BRAND] = true as const;
  readonly #options: JetStreamTaskQueueOptions;
  readonly #name: string;
  readonly #clock: () => number;
  readonly #d: ResolvedQueueDefaults;
  readonly #expireLimit: number;
  readonly #ackWaitMs: number;
  readonly #onConsumerMismatch: 'error' | 'update';
  readonly #maxTasks: number;
  readonly #maxAckPending: number;
  readonly #maxDeliver: number;
  readonly #readAhead: number;
  readonly #serverTimers: boolean;
  readonly #stream: string;
  readonly #subjects: string;
  readonly #channels = new Set<TaskEventChannel>();
  readonly #consumers = new Map<string, Promise<string>>();
  /** Task subjects of the pools used (a submit's subject without encoding the pool each time); bounded. */
  readonly #poolSubjects = new Map<string, string>();
  /** Consumers this client fetched from once (see `JETSTREAM_QUEUE_FIRST_FETCH_EXPIRES_MS`). */
  readonly #warm = new Set<string>();
  /** Revision of records this client wrote last (saves a read on report); bounded. */
  readonly #revisions = new Map<string, { revision: number; record: TaskRecord }>();
  readonly #stats: Omit<JetStreamQueueStats, 'fetches' | 'lateDeliveries' | 'readAheadGivenBack'> = {
    orphanMessages: 0,
    maxDeliverDeadLetters: 0,
    hintWriteFailures: 0,
  };
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #bucket: Bucket | undefined;
  #pulls: Pulls | undefined;
  #replies: Replies | undefined;
  /** Deadline-hint writes (confirmed in the background; `expire` and `stop` wait for them). */
  #hints: Hints | undefined;
  #events: Subscription | undefined;
  #started = false;
  /** Set while `stop` runs: a waiting claim then ends with what it has. */
  #stopping = false;

  constructor(options: JetStreamTaskQueueOptions) {
    this.#options = options;
    this.#name = options.name ?? JETSTREAM_QUEUE_DEFAULT_NAME;
    if (!NAME.test(this.#name)) throw new ConfigError(`name must match ${NAME}`, { key: 'name' });
    if (!options.connection && options.servers === undefined) throw new ConfigError('give servers or connection', { key: 'servers' });
    this.#clock = options.clock ?? Date.now;
    this.#d = resolveQueueDefaults(options.defaults);
    this.#expireLimit = positive(options.expireLimit ?? DEFAULT_EXPIRE_LIMIT, 'expireLimit');
    this.#ackWaitMs = positive(options.ackWaitMs ?? jetstreamQueueAckWaitMs(this.#d.leaseMs), 'ackWaitMs');
    this.#onConsumerMismatch = mismatchMode(options.onConsumerMismatch);
    this.#maxTasks = positive(options.maxTasks ?? JETSTREAM_QUEUE_DEFAULT_MAX_TASKS, 'maxTasks');
    this.#maxAckPending = positive(options.maxAckPending ?? JETSTREAM_QUEUE_DEFAULT_MAX_ACK_PENDING, 'maxAckPending');
    this.#maxDeliver = positive(options.maxDeliver ?? JETSTREAM_QUEUE_DEFAULT_MAX_DELIVER, 'maxDeliver');
    this.#serverTimers = options.serverTimers ?? true;
    this.#readAhead = nonNegative(options.readAhead ?? JETSTREAM_QUEUE_DEFAULT_READ_AHEAD, 'readAhead');
    this.#stream = `CVQ_${this.#name}`;
    this.#subjects = `cvq.${this.#name}`;
  }

  /** The queue's name. */
  get name(): string {
    return this.#name;
  }

  /** What this client refused or repaired so far. */
  stats(): JetStreamQueueStats {
    return { ...this.#stats, fetches: this.#pulls?.sent ?? 0, lateDeliveries: this.#pulls?.late ?? 0, readAheadGivenBack: this.#pulls?.givenBack ?? 0 };
  }

  /** Connects (unless given a connection), creates the stream and the bucket when missing. Idempotent. */
  async start(): Promise<void> {
    if (this.#started) return;
    const nc =
      this.#options.connection ??
      (await connect({ noAsyncTraces: true, ...this.#options.connectOptions, servers: this.#options.servers }).catch((err: unknown) => {
        throw new StoreError(`cannot connect to NATS at ${String(this.#options.servers)}`, { cause: err });
      }));
    this.#nc = nc;
    try {
      this.#jsm = await jetstreamManager(nc);
    } catch (err) {
      throw new StoreError('JetStream is not available on this server', { cause: err });
    }
    this.#js = jetstream(nc);
    this.#pulls = new Pulls(nc, this.#readAhead);
    this.#replies = new Replies(nc);
    this.#bucket = new Bucket(`cvq_${this.#name}`, this.#replies, this.#pulls, this.#jsm);
    this.#hints = new Hints(nc, this.#bucket, () => this.#stats.hintWriteFailures++);
    await ensureWorkStream(this.#jsm, { stream: this.#stream, subjects: this.#subjects, maxTasks: this.#maxTasks });
    await this.#bucket.ensure(this.#maxTasks * 3);
    this.#started = true;
  }

  /** Ends every `watch` and (when this queue made it) closes the connection. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const ch of [...this.#channels]) ch.close();
    this.#pulls?.stop();
    await this.#hints?.flush();
    this.#events?.unsubscribe();
    this.#events = undefined;
    if (this.#started && !this.#options.connection) await this.#nc?.drain().catch(() => undefined);
    this.#replies?.close();
    this.#consumers.clear();
    this.#warm.clear();
    this.#started = false;
    this.#stopping = false;
  }

  /** Deletes the stream and the bucket (tests and tooling). */
  async drop(): Promise<void> {
    const jsm = this.#need().jsm;
    await jsm.streams.delete(this.#stream).catch(() => false);
    await jsm.streams.delete(this.#need().bucket.stream).catch(() => false);
  }

  /** The durable consumer of `poolId` (created on first use). */
  #consumer(poolId: string): Promise<string> {
    let p = this.#consumers.get(poolId);
    if (!p) {
      const durable = `p_${token(poolId)}`;
      const spec = { stream: this.#stream, durable, filterSubject: this.#taskSubject(poolId), ackWaitMs: this.#ackWaitMs, maxAckPending: this.#maxAckPending };
      p = ensurePoolConsumer(this.#need().jsm, { ...spec, onMismatch: this.#onConsumerMismatch }).then(
        () => durable,
        (err: unknown) => {
          this.#consumers.delete(poolId);
          throw err;
        },
      );
      this.#consumers.set(poolId, p);
    }
    return p;
  }

  #taskSubject(poolId: string): string {
    let subject = this.#poolSubjects.get(poolId);
    if (subject === undefined) {
      if (this.#poolSubjects.size >= POOL_SUBJECTS_KEPT) this.#poolSubjects.clear();
      subject = `${this.#subjects}.t.${token(poolId)}`;
      this.#poolSubjects.set(poolId, subject);
    }
    return subject;
  }

  #need(): { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager; bucket: Bucket } {
    if (!this.#nc || !this.#js || !this.#jsm || !this.#bucket) throw new StoreError('JetStreamTaskQueue used before start()');
    return { nc: this.#nc, js: this.#js, jsm: this.#jsm, bucket: this.#bucket };
  }

  async #read(id: string): Promise<{ entry: Entry; record: TaskRecord } | null> {
    const entry = await this.#need().bucket.get(`r.${token(id)}`);
    if (!entry) return null;
    const record = decodeRecord(entry.value);
    if (!record) throw new StoreError(`the record of task ${id} is not readable`, { key: entry.key, code: UNREADABLE });
    return { entry, record };
  }

  /** CAS-writes `record` over revision `expected`; a transition carries the event header. Returns the revision or `null`. */
  async #write(record: TaskRecord, expected: number, transition: boolean, taskBytes?: RawMsgpack): Promise<number | null> {
    const value = encodeRecord(record, taskBytes);
    const rev = await this.#need().bucket.put(`r.${token(record.task.id)}`, value, expected, transition ? eventHeaders(record.task) : undefined);
    if (rev !== null) this.#remember(record, rev);
    return rev;
  }

  #remember(record: TaskRecord, revision: number): void {
    if (!isLive(record.task)) {
      this.#revisions.delete(record.task.id);
      return;
    }
    if (this.#revisions.size >= 4 * this.#maxAckPending) this.#revisions.delete(this.#revisions.keys().next().value!);
    this.#revisions.set(record.task.id, { revision, record });
  }

  /** Acks, naks or terms a delivery; `confirm` waits for the server to have applied it. */
  async #settle(reply: string | null | undefined, body: string, confirm: boolean): Promise<void> {
    if (!reply) return;
    const nc = this.#need().nc;
    if (!confirm) {
      nc.publish(reply, body);
      return;
    }
    // A reply that no longer names a pending delivery is answered all the same; a time-out is
    // left to the ack wait (the record already says what happened to the task).
    await nc.request(reply, body, { timeout: 5_000 }).catch(() => undefined);
  }

  #nak(delayMs: number): string {
    return delayMs > 0 ? `-NAK ${JSON.stringify({ delay: Math.ceil(delayMs) * NS_PER_MS })}` : '-NAK';
  }

  /** Ends a dead-lettered task's message and leaves a copy on the pool's dead-letter subject. */
  async #deadLetter(t: QueuedTask, reply: string | null | undefined): Promise<void> {
    await this.#settle(reply, '+TERM', true);
    await this.#need()
      .js.publish(`${this.#subjects}.dlq.${token(t.poolId!)}`, enc.encode(t.id), { msgID: `dlq:${t.id}` })
      .catch(() => undefined);
  }

  /** See `TaskQueue.submit`: record create (revision 0), then the message with `Nats-Msg-Id` = task id. */
  async submit(init: TaskInit, options: SubmitOptions = {}): Promise<QueuedTask> {
    throwIfAborted(options.signal);
    const { bucket } = this.#need();
    const now = this.#clock();
    const t = prepareSubmit(init, now, options);
    if (t.poolId!.length > JETSTREAM_QUEUE_MAX_POOL_ID) throw new ValidationError(`poolId longer than ${JETSTREAM_QUEUE_MAX_POOL_ID} characters`);
    const keyName = options.idempotencyKey === undefined ? null : `k.${token(options.idempotencyKey)}`;
    if (keyName !== null && (await bucket.put(keyName, enc.encode(t.id), 0)) === null) return this.#idempotent(keyName, options);
    const task = newQueuedTask(t, now);
    await this.#consumer(t.poolId!);
    if (hintDue(task) !== null) {
      // Sent before the record: once the record write is confirmed, the hint is stored too.
      await this.#hints!.room();
      this.#hints!.write(task);
    }
    // Encoded once: the record and the message carry the same task bytes.
    const taskBytes = new RawMsgpack(encodeValue(task as unknown as WireValue));
    const rev = await this.#write({ task, ack: null }, 0, true, taskBytes);
    if (rev === null) {
      if (keyName !== null) await bucket.purge(keyName);
      const cur = await this.#read(t.id);
      throw new ConflictError(`task ${t.id} already exists`, { currentState: cur?.record.task.state });
    }
    try {
      // The message carries the record as written (and its revision): a first delivery claims
      // with one CAS against that revision, without reading the bucket first.
      const h = natsHeaders();
      h.set(MSG_ID, t.id);
      const ack = await publishAcked(this.#replies!, this.#taskSubject(t.poolId!), encodeValue({ i: t.id, r: rev, t: taskBytes }), h);
      if (ack.error) throw new Error(ack.error.description ?? 'refused');
    } catch (err) {
      // No message, no task: take the record (and the key) back so the id can be submitted again.
      await bucket.purge(`r.${token(t.id)}`).catch(() => undefined);
      if (keyName !== null) await bucket.purge(keyName).catch(() => undefined);
      if (/maximum messages/i.test(String((err as Error).message)))
        throw new QueueFullError(`stream ${this.#stream} holds its ${this.#maxTasks} tasks`, { cause: err });
      throw new StoreError(`cannot publish task ${t.id}: ${(err as Error).message}`, { cause: err });
    }
    return task;
  }

  /** A submit that lost its idempotency key: the first submit's task (its record may still be on its way). */
  async #idempotent(keyName: string, options: SubmitOptions): Promise<QueuedTask> {
    const entry = await this.#need().bucket.get(keyName);
    if (!entry) throw new ConflictError('idempotency key changed under the submit; try again');
    const id = dec.decode(entry.value);
    const until = Date.now() + IDEMPOTENT_WAIT_MS;
    for (;;) {
      const cur = await this.#read(id);
      if (cur) return cur.record.task;
      if (Date.now() >= until) throw new ConflictError(`idempotency key names task ${id}, which was never stored`);
      await sleep(20, options.signal);
    }
  }

  /**
   * See `TaskQueue.claim`: no-wait fetches of up to `max` messages from the pool's consumer,
   * each taken with a CAS on its record; a waiting claim then holds one fetch open for up to
   * `waitMs` (the server wakes it when a message arrives).
   */
  async claim(request: ClaimRequest, options: QueueCallOptions = {}): Promise<ClaimedTask[]> {
    const req = resolveClaim(request);
    if (req.poolId.length > JETSTREAM_QUEUE_MAX_POOL_ID) throw new ValidationError(`poolId longer than ${JETSTREAM_QUEUE_MAX_POOL_ID} characters`);
    throwIfAborted(options.signal);
    const consumer = await this.#consumer(req.poolId);
    const out = await this.#claimNow(req, consumer, req.max, options);
    if (out.length > 0 || req.waitMs === 0) return out;
    const until = Date.now() + req.waitMs;
    const seen = new Set<number>();
    for (let left = req.waitMs; left > 0 && !this.#stopping; left = until - Date.now()) {
      throwIfAborted(options.signal);
      let msgs: Msg[];
      try {
        msgs = await this.#pulls!.pull(
          this.#stream,
          consumer,
          { batch: 1, expires: Math.ceil(left) * NS_PER_MS },
          {
            signal: options.signal,
            late: (m) => void this.#settle(m.reply, '-NAK', false),
          },
        );
      } catch (err) {
        if (options.signal?.aborted) throw new AbortError('claim wait aborted', { cause: err });
        throw new StoreError(`claim wait on pool ${req.poolId} failed: ${(err as Error).message}`, { cause: err });
      }
      const got = (await Promise.all(msgs.map((m) => this.#take(m, req, seen, true)))).filter((c): c is ClaimedTask => c !== null);
      if (got.length > 0) return [...got, ...(req.max > 1 ? await this.#claimNow(req, consumer, req.max - got.length, options) : [])];
    }
    return [];
  }

  /** No-wait fetch rounds until `max` are claimed, the consumer has nothing, or a round only brings back skipped messages. */
  async #claimNow(req: ResolvedClaim, consumer: string, max: number, options: QueueCallOptions): Promise<ClaimedTask[]> {
    const out: ClaimedTask[] = [];
    const seen = new Set<number>();
    while (out.length < max) {
      throwIfAborted(options.signal);
      const first = !this.#warm.has(consumer);
      const expires = first ? JETSTREAM_QUEUE_FIRST_FETCH_EXPIRES_MS : JETSTREAM_QUEUE_NO_WAIT_EXPIRES_MS;
      const msgs = await this.#pulls!.fetch(this.#stream, consumer, max - out.length, expires);
      this.#warm.add(consumer);
      if (msgs.length === 0) break;
      const again = msgs.every((m) => seen.has(parseAckReply(m.reply)?.streamSeq ?? -1));
      const got = await Promise.all(msgs.map((m) => this.#take(m, req, seen, false)));
      for (const c of got) if (c) out.push(c);
      if (again) break;
    }
    return out;
  }

  /**
   * Decides one delivered message: claim its task, or give the message back / end it. A
   * message a waiting claim skips a second time goes back with a short delay (else the open
   * fetch would get it back at once, again and again); a no-wait claim stops its rounds instead.
   */
  async #take(m: Msg, req: ResolvedClaim, seen: Set<number>, waiting: boolean): Promise<ClaimedTask | null> {
    const info = parseAckReply(m.reply);
    const seq = info?.streamSeq ?? -1;
    const d: Delivery = { reply: m.reply ?? null, deliveries: info?.deliveryCount ?? 0, repeat: seen.has(seq), waiting };
    seen.add(seq);
    const body = messageBody(m.data);
    // A first delivery carries the record as submitted: claimed with one CAS, no read first.
    let carried: Current | null = d.deliveries === 1 && body.task ? { revision: body.revision, record: { task: body.task, ack: null } } : null;
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const cur = carried ?? (await this.#readForClaim(d, body.id));
      carried = null;
      if (cur === 'settled') return null;
      const step = await this.#step(d, cur, req);
      if (step !== 'again') return step;
    }
    await this.#settle(d.reply, '-NAK', true);
    return null;
  }

  /**
   * The record of a delivered message's task, or `'settled'`: a failed read gives the message
   * back (for this or another claimer to try again); a missing or unreadable record is bad
   * input, counted, its message ended.
   */
  async #readForClaim(d: Delivery, id: string): Promise<Current | 'settled'> {
    let cur: { entry: Entry; record: TaskRecord } | null = null;
    try {
      cur = await this.#read(id);
    } catch (err) {
      if ((err as StoreError).code !== UNREADABLE) {
        await this.#settle(d.reply, '-NAK', false);
        return 'settled';
      }
    }
    if (!cur) {
      this.#stats.orphanMessages++;
      await this.#settle(d.reply, '+TERM', false);
      return 'settled';
    }
    return { revision: cur.entry.revision, record: cur.record };
  }

  /** One round of deciding a delivery on its task's record: the claim, `null` (settled otherwise), or `'again'` after a lost CAS. */
  async #step(d: Delivery, cur: Current, req: ResolvedClaim): Promise<ClaimedTask | null | 'again'> {
    const t = cur.record.task;
    const now = this.#clock();
    if (!isLive(t)) {
      await this.#settle(d.reply, '+ACK', false);
      return null;
    }
    if (t.state !== 'pending') return this.#heldElsewhere(d, cur, now);
    if (d.deliveries > this.#maxDeliver) return this.#pastMaxDeliver(d, cur, now);
    const why = unclaimable(t, now, req.capabilities);
    if (why !== null) {
      const delay = d.repeat && d.waiting ? JETSTREAM_QUEUE_SKIP_DELAY_MS : why === 'later' && this.#serverTimers ? t.notBefore! - now : 0;
      await this.#settle(d.reply, this.#nak(delay), true);
      return null;
    }
    const task = claimed(t, req.agentId, now, this.#d);
    // The hint goes first: the record write confirmed means the hint is stored (a lost CAS leaves a stale hint, dropped by the sweep).
    await this.#hints!.room();
    this.#hints!.write(task, t);
    if ((await this.#write({ task, ack: d.reply }, cur.revision, true)) === null) return 'again';
    return { task, lease: { taskId: t.id, agentId: req.agentId, attempt: task.attempts, expiresAt: task.leaseExpiresAt! } };
  }

  /** A delivery of a task another claim holds: sweep it when its lease ran out, else hold the message back until then. */
  async #heldElsewhere(d: Delivery, cur: Current, now: number): Promise<null | 'again'> {
    const t = cur.record.task;
    if (sweepable(t, now)) {
      // The holder is gone and no sweep ran: do the sweep's transition here, then look again.
      const { task } = expiredClaim(t, now, this.#d);
      if ((await this.#write({ task, ack: d.reply }, cur.revision, true)) === null) return 'again';
      if (task.state === 'pending') return 'again';
      this.#hints!.write(task, t);
      await this.#deadLetter(task, d.reply);
      return null;
    }
    // Its ack wait ran out before its lease: keep the newest delivery in the record (acks go there) and hold the message back.
    if ((await this.#write({ task: t, ack: d.reply }, cur.revision, false)) === null) return 'again';
    await this.#settle(d.reply, this.#nak(this.#serverTimers ? t.leaseExpiresAt! - now : 0), true);
    return null;
  }

  /** A pending task whose message was delivered more than `maxDeliver` times: dead-lettered (counted). */
  async #pastMaxDeliver(d: Delivery, cur: Current, now: number): Promise<null | 'again'> {
    const t = cur.record.task;
    const task: QueuedTask = { ...t, state: 'failed', deadLettered: true, failureReason: 'max-deliver', updatedAt: now };
    if ((await this.#write({ task, ack: d.reply }, cur.revision, true)) === null) return 'again';
    this.#stats.maxDeliverDeadLetters++;
    this.#hints!.write(task, t);
    await this.#deadLetter(task, d.reply);
    return null;
  }

  /** A fenced transition: read (or this client's last revision), check the lease, CAS; again on a lost CAS. */
  async #fenced(
    l: TaskLease,
    options: QueueCallOptions,
    next: (t: QueuedTask, now: number) => QueuedTask,
    transition = true,
  ): Promise<{ before: TaskRecord; task: QueuedTask }> {
    let known = this.#revisions.get(l.taskId);
    for (let round = 0; round < CAS_ROUNDS; round++) {
      throwIfAborted(options.signal);
      const cur = known
        ? { revision: known.revision, record: known.record }
        : await this.#read(l.taskId).then((c) => c && { revision: c.entry.revision, record: c.record });
      known = undefined;
      if (!cur) throw new NotFoundError(`task ${l.taskId} not found`);
      const now = this.#clock();
      const refused = fenceError(cur.record.task, l, now);
      if (refused) {
        if (round === 0 && this.#revisions.has(l.taskId)) {
          this.#revisions.delete(l.taskId); // the remembered revision may be old: decide on the stored record
          continue;
        }
        throw refused;
      }
      const task = next(cur.record.task, now);
      if ((await this.#write({ task, ack: cur.record.ack }, cur.revision, transition)) !== null) return { before: cur.record, task };
      this.#revisions.delete(l.taskId);
    }
    throw new ConflictError(`task ${l.taskId} kept changing under the call; try again`);
  }

  /** See `TaskQueue.extend`: CAS the new expiry, then mark the message in progress (resets its ack wait). */
  async extend(lease: TaskLease, options: QueueCallOptions = {}): Promise<TaskLease> {
    const l = requireLease(lease, 'extend');
    const { before, task } = await this.#fenced(l, options, (t, now) => ({ ...t, leaseExpiresAt: now + leaseMsOf(t, this.#d), updatedAt: now }), false);
    await this.#settle(before.ack, '+WPI', false);
    return { taskId: l.taskId, agentId: l.agentId, attempt: l.attempt, expiresAt: task.leaseExpiresAt! };
  }

  /** See `TaskQueue.report`: CAS to completed (fenced by attempt), then ack the message. */
  async report(lease: TaskLease, result: WireValue, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'report');
    const { before, task } = await this.#fenced(l, options, (t, now) => reported(t, result, now));
    await this.#settle(before.ack, '+ACK', false);
    this.#hints!.write(task, before.task);
    return task;
  }

  /** See `TaskQueue.fail`: CAS to pending (nak with the backoff as delay) or dead letter (term + dead-letter copy). */
  async fail(lease: TaskLease, reason: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'fail');
    const why = requireReason(reason);
    const { before, task } = await this.#fenced(l, options, (t, now) => failed(t, why, now, this.#d));
    if (task.state === 'pending') {
      const delay = this.#serverTimers && task.notBefore !== null ? task.notBefore - this.#clock() : 0;
      this.#hints!.write(task, before.task);
      await this.#settle(before.ack, this.#nak(delay), true);
    } else {
      this.#hints!.write(task, before.task);
      await this.#deadLetter(task, before.ack);
    }
    return task;
  }

  /** See `TaskQueue.cancel`: CAS to cancelled, then term a held message (an undelivered one is acked when next fetched). */
  async cancel(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const id = requireId(taskId);
    for (let round = 0; round < CAS_ROUNDS; round++) {
      throwIfAborted(options.signal);
      const cur = await this.#read(id);
      if (!cur) throw new NotFoundError(`task ${id} not found`);
      const t = cur.record.task;
      if (!isLive(t)) throw new ConflictError(`task ${id} is already ${t.state}`, { currentState: t.state });
      const task = cancelled(t, this.#clock());
      if ((await this.#write({ task, ack: cur.record.ack }, cur.entry.revision, true)) === null) continue;
      this.#hints!.write(task, t);
      if (t.state !== 'pending') await this.#settle(cur.record.ack, '+TERM', true);
      return task;
    }
    throw new ConflictError(`task ${id} kept changing under the cancel; try again`);
  }

  /**
   * See `TaskQueue.expire`: reads the sweep hints (one per claimed task and per pending task
   * with a deadline, not one per task), and for each one due takes the lease back (nak: the
   * message is delivered again at once) or fails the task past its deadline.
   */
  async expire(options: ExpireOptions = {}): Promise<ExpiredTask[]> {
    throwIfAborted(options.signal);
    const { bucket } = this.#need();
    const now = this.#clock();
    await this.#hints!.flush();
    const markers: number[] = [];
    const hints = await bucket.scan('l.', this.#maxTasks, markers);
    await this.#hints!.dropMarkers(markers);
    // Due deadline hints, then every task whose message a pool consumer holds (a claim or a delayed retry).
    const ids = new Map<string, boolean>();
    for (const h of hints) if (Number(dec.decode(h.value)) <= now) ids.set(untoken(h.key.slice(2)), true);
    for (const id of await heldTaskIds(this.#need().nc, this.#need().jsm, this.#stream, 'p_', this.#maxAckPending * 64)) if (!ids.has(id)) ids.set(id, false);
    const out: ExpiredTask[] = [];
    for (const [id, fromHint] of ids) {
      if (out.length >= this.#expireLimit) break;
      throwIfAborted(options.signal);
      const done = await this.#sweepOne(id, now, fromHint);
      if (done) out.push(done);
    }
    return out;
  }

  /** Sweeps task `id` when due; `fromHint`: it was found by its deadline hint (refreshed or dropped when not due). */
  async #sweepOne(id: string, now: number, fromHint: boolean): Promise<ExpiredTask | null> {
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const cur = await this.#read(id).catch((err: unknown) => {
        if (fromHint) throw err;
        return null; // a held message of a foreign or unreadable record: the claim path ends it
      });
      if (!cur) {
        if (fromHint) await this.#need().bucket.purge(`l.${token(id)}`);
        return null;
      }
      const t = cur.record.task;
      if (!sweepable(t, now)) {
        if (fromHint) this.#hints!.write(t); // extended, finished or cancelled since: refresh or drop the hint
        return null;
      }
      const { task, expired } = t.state === 'pending' ? expiredPending(t, now) : expiredClaim(t, now, this.#d);
      if ((await this.#write({ task, ack: cur.record.ack }, cur.entry.revision, true)) === null) continue;
      const held = t.state === 'pending' ? null : cur.record.ack;
      if (task.state === 'pending') await this.#settle(held, '-NAK', true);
      else if (task.deadLettered) await this.#deadLetter(task, held);
      else await this.#settle(held, '+TERM', true);
      this.#hints!.write(task, t);
      return expired;
    }
    return null;
  }

  /** See `TaskQueue.get`: one direct get. */
  async get(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    throwIfAborted(options.signal);
    const id = requireId(taskId);
    const cur = await this.#read(id);
    if (!cur) throw new NotFoundError(`task ${id} not found`);
    return cur.record.task;
  }

  /** See `TaskQueue.list`: reads every record (a bucket scan, O(tasks) per page), then pages in id order. */
  async list(options: ListTasksOptions = {}): Promise<TaskPage> {
    const { limit, cursor } = resolveList(options);
    throwIfAborted(options.signal);
    const entries = await this.#need().bucket.scan('r.', this.#maxTasks);
    return pageOf(
      entries.map((e) => decodeRecord(e.value)?.task ?? null),
      cursor,
      limit,
      options,
    );
  }

  /**
   * See `TaskQueue.watch`: every client's transitions, as published into the bucket (a
   * subscription: none while disconnected). One subscription feeds every `watch` of this
   * client; it exists only while one is open (else every record write of every client would
   * be sent to this one for nothing).
   */
  watch(options: WatchOptions = {}): AsyncIterable<TaskQueueEvent> {
    const { nc, bucket } = this.#need();
    const channel: TaskEventChannel = new TaskEventChannel(options, () => {
      this.#channels.delete(channel);
      if (this.#channels.size === 0) {
        this.#events?.unsubscribe();
        this.#events = undefined;
      }
    });
    if (options.signal?.aborted) return channel;
    this.#channels.add(channel);
    this.#events ??= nc.subscribe(bucket.subject('r.>'), {
      callback: (_err, m) => {
        const e = parseEvent(m.headers?.get(EVENT_HEADER));
        if (e) for (const ch of this.#channels) ch.push(e);
      },
    });
    return channel;
  }
}
