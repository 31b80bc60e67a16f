import {
  Identity,
  MAX_MESSAGE_ID_BYTES,
  isIdentity,
  NotStartedError,
  ValidationError,
  topicRoundTrips,
  verifyMessage,
  type Message,
  type Store,
} from '@converge/core';
import type { Logger, MetricCounter, MetricHistogram, Metrics } from '@converge/core';
import { isIdentityRegistry, type IdentityRegistry } from './registry.js';
import { ReplayCache } from './replay.js';
import { ReplayStateStore } from './replay-store.js';
import type { ReceiveOptions, Transport } from '@converge/core';
import type { VerifierPool } from './verify-pool.js';

/** Default accepted clock skew between sender and receiver: ±5 minutes. */
export const DEFAULT_SKEW_MS = 5 * 60_000;

/** Default most messages taken from a transport per pool batch. */
export const DEFAULT_VERIFY_BATCH = 256;

/** Why a message was refused. */
export type RejectionReason = 'unknown_sender' | 'bad_signature' | 'stale' | 'replay' | 'malformed' | 'wrong_recipient';

/** Every rejection reason, in a stable order. */
export const REJECTION_REASONS: readonly RejectionReason[] = ['unknown_sender', 'bad_signature', 'stale', 'replay', 'malformed', 'wrong_recipient'];

/** Outcome of `MessageVerifier.check`. */
export type CheckResult = { ok: true } | { ok: false; reason: RejectionReason };

/** Options of `MessageVerifier`. */
export interface MessageVerifierOptions {
  /** Public keys of the senders to accept. */
  registry: IdentityRegistry;
  /** Accepted |now − timestamp| in ms (default 5 minutes). */
  skewMs?: number;
  /**
   * The receiving agent(s): a message addressed to anyone else (`recipient` set and not one
   * of these) is refused as `wrong_recipient`. Topic and broadcast messages (recipient null)
   * are accepted. Without it, the recipient is not checked.
   */
  self?: string | Identity | readonly (string | Identity)[];
  /** Most message ids remembered per sender (default 100,000); see `ReplayCache`. */
  replayIdsPerSender?: number;
  /** Byte budget of the whole replay cache, estimated (default 64 MiB); see `ReplayCache`. */
  replayCacheBytes?: number;
  /**
   * Persists each sender's highest accepted timestamp here, so replays stay refused across a
   * restart (call `start()` before checking). Without it, a restarted receiver accepts again
   * any message whose timestamp is within ±`skewMs` of its clock.
   */
  replayStore?: Store;
  /** Clock in Unix ms (default `Date.now`). */
  clock?: () => number;
  /**
   * Counts `converge_messages_rejected_total{reason}` and `converge_messages_verified_total`, and
   * times each `check` in `converge_verify_duration_seconds` (histogram, `VERIFY_DURATION_BUCKETS`; on a pool, each message of a batch counts the batch's time over its size).
   */
  metrics?: Metrics;
  /** Logs each rejection (warn) with its reason, sender and id. */
  logger?: Logger;
  /**
   * Called with each rejection's sender (when the message names one) and reason, e.g. a
   * coordination `TrustFeed`'s `messageRejected`, so a bad signature lowers the sender's trust.
   * A throw is caught (the rejection stands) and logged.
   */
  onReject?: (sender: string | undefined, reason: RejectionReason) => void;
}

/** Options of `receiveVerified` / `MessageVerifier.receive`. */
export interface ReceiveVerifiedOptions extends ReceiveOptions {
  /** Verifies signatures on worker threads, in batches. */
  pool?: VerifierPool;
  /** Most messages taken from the transport per pool batch (default 256). */
  batchSize?: number;
}

type Counter = MetricCounter;

/** Bucket bounds of `converge_verify_duration_seconds`: 10 µs to 10 ms (one Ed25519 verify is ~50 µs). */
export const VERIFY_DURATION_BUCKETS: readonly number[] = Object.freeze([0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01]);

const OK: CheckResult = Object.freeze({ ok: true });
const REJECTED: Record<RejectionReason, CheckResult> = Object.fromEntries(REJECTION_REASONS.map((r) => [r, Object.freeze({ ok: false, reason: r })])) as Record<
  RejectionReason,
  CheckResult
>;

// The bound is in UTF-8 bytes, as on the wire: 128 'é' are 128 UTF-16 units but 256 bytes. The
// byte count is needed only when the string could be longer than the bound in UTF-8.
function idWithinBound(id: string): boolean {
  if (id.length > MAX_MESSAGE_ID_BYTES) return false;
  return id.length * 3 <= MAX_MESSAGE_ID_BYTES || new TextEncoder().encode(id).byteLength <= MAX_MESSAGE_ID_BYTES;
}

function isWellFormed(msg: Message): boolean {
  return (
    msg !== null &&
    typeof msg === 'object' &&
    // Ids are bounded on the wire (the decoder refuses longer ones); a message handed over
    // in memory is held to the same bound, so the replay cache's cost per id is bounded.
    typeof msg.id === 'string' &&
    msg.id !== '' &&
    idWithinBound(msg.id) &&
    typeof msg.sender === 'string' &&
    (msg.recipient === null || typeof msg.recipient === 'string') &&
    Number.isSafeInteger(msg.timestamp) &&
    Array.isArray(msg.topics) &&
    msg.topics.every(topicRoundTrips) &&
    msg.signature instanceof Uint8Array
  );
}

function selfSet(self: MessageVerifierOptions['self']): ReadonlySet<string> | undefined {
  if (self === undefined) return undefined;
  const list = Array.isArray(self) ? self : [self];
  return new Set(list.map((s: string | Identity) => (isIdentity(s) ? s.fingerprint : s)));
}

/**
 * Decides whether a received message may be trusted: well-formed, from a registered sender,
 * signed by that sender's key, timestamped within ±`skewMs`, addressed to this receiver (with
 * `self`) or to no one, and not seen before. Replay state is kept per sender (`ReplayCache`),
 * so one agent's traffic never evicts another's; with `replayStore` it survives a restart.
 * The id is recorded only after the signature verifies, so forged messages cannot fill the
 * replay cache or block a genuine id. Every rejection is counted in `rejections` (and the
 * metrics, if given) and logged.
 */
export class MessageVerifier {
  /** The registry consulted for senders' keys. */
  readonly registry: IdentityRegistry;
  /** Accepted clock skew in ms. */
  readonly skewMs: number;
  /** Rejections so far, by reason. */
  readonly rejections: Record<RejectionReason, number> = {
    unknown_sender: 0,
    bad_signature: 0,
    stale: 0,
    replay: 0,
    malformed: 0,
    wrong_recipient: 0,
  };
  /** Messages accepted so far. */
  verified = 0;
  readonly #replay: ReplayCache;
  readonly #persisted: ReplayStateStore | undefined;
  #loaded: boolean;
  readonly #self: ReadonlySet<string> | undefined;
  readonly #clock: () => number;
  readonly #logger: Logger | undefined;
  readonly #rejected: Counter | undefined;
  readonly #accepted: Counter | undefined;
  readonly #latency: MetricHistogram | undefined;
  readonly #onReject: ((sender: string | undefined, reason: RejectionReason) => void) | undefined;
  readonly #pipelines = new WeakMap<Transport, { ready: Message[]; batches: PoolBatch[] }>();

  constructor(options: MessageVerifierOptions) {
    if (!isIdentityRegistry(options?.registry)) throw new ValidationError('MessageVerifier needs an IdentityRegistry');
    this.registry = options.registry;
    this.skewMs = options.skewMs ?? DEFAULT_SKEW_MS;
    if (!(this.skewMs >= 0)) throw new ValidationError('skewMs must be >= 0');
    this.#clock = options.clock ?? Date.now;
    this.#replay = new ReplayCache({
      skewMs: this.skewMs,
      maxIdsPerSender: options.replayIdsPerSender,
      maxBytes: options.replayCacheBytes,
      clock: this.#clock,
    });
    this.#persisted = options.replayStore ? new ReplayStateStore(options.replayStore) : undefined;
    this.#loaded = this.#persisted === undefined;
    this.#self = selfSet(options.self);
    this.#logger = options.logger;
    this.#rejected = options.metrics?.counter({
      name: 'converge_messages_rejected_total',
      help: 'Received messages refused, by reason',
      labelNames: ['reason'],
    });
    this.#accepted = options.metrics?.counter({ name: 'converge_messages_verified_total', help: 'Received messages that passed verification', labelNames: [] });
    this.#latency = options.metrics?.histogram({
      name: 'converge_verify_duration_seconds',
      help: 'Time to check one received message (signature, replay), seconds',
      buckets: VERIFY_DURATION_BUCKETS,
    });
    this.#onReject = options.onReject;
  }

  /**
   * Loads the persisted replay state (with `replayStore`; otherwise nothing to do). Must
   * complete before the first `check`. Idempotent.
   */
  async start(): Promise<void> {
    if (this.#loaded || !this.#persisted) return;
    await this.#persisted.load(this.#replay, this.#clock() - this.skewMs);
    this.#loaded = true;
  }

  /** Writes the replay state noted so far to `replayStore` (nothing without one). */
  async flush(): Promise<void> {
    await this.#persisted?.flush();
  }

  /** Unexpired ids forgotten early because a sender's partition or the cache was full. */
  get replayEvictions(): number {
    return this.#replay.evictions;
  }

  /** The replay cache (read-only use: sizes, floors). */
  get replayCache(): ReplayCache {
    return this.#replay;
  }

  /**
   * Checks one message, verifying its signature on this thread; records its id if accepted.
   * With `replayStore`, throws `NotStartedError` before `start()`, and the record reaches the
   * store on the next `flush()` (`receive` flushes before it returns a message).
   */
  check(msg: Message): CheckResult {
    const latency = this.#latency;
    if (latency === undefined) return this.#check(msg);
    const t0 = performance.now();
    try {
      return this.#check(msg);
    } finally {
      latency.observe(undefined, (performance.now() - t0) / 1000);
    }
  }

  #check(msg: Message): CheckResult {
    const pre = this.precheck(msg);
    if (typeof pre === 'string') return this.reject(msg, pre);
    return this.complete(msg, verifyMessage(msg, pre));
  }

  /**
   * @internal First half of `check`: the sender's key, or the reason to refuse before any
   * signature work. Counts nothing.
   */
  precheck(msg: Message): Uint8Array | RejectionReason {
    if (!this.#loaded) throw new NotStartedError('MessageVerifier with a replayStore needs start() first');
    if (!isWellFormed(msg)) return 'malformed';
    const key = this.registry.peek(msg.sender);
    if (!key) return 'unknown_sender';
    if (Math.abs(this.#clock() - msg.timestamp) > this.skewMs) return 'stale';
    if (this.#self && msg.recipient !== null && !this.#self.has(msg.recipient)) return 'wrong_recipient';
    if (msg.signature.byteLength !== 64) return 'bad_signature';
    return key;
  }

  /** @internal Second half of `check`, given the signature's validity: replay check and counting. */
  complete(msg: Message, signatureOk: boolean): CheckResult {
    if (!signatureOk) return this.reject(msg, 'bad_signature');
    // Per-sender state: a registered agent can neither pre-empt nor flush another's ids.
    if (!this.#replay.add(msg.sender, msg.id, msg.timestamp)) return this.reject(msg, 'replay');
    this.#persisted?.note(msg.sender, this.#replay.highOf(msg.sender));
    this.verified++;
    this.#accepted?.inc();
    return OK;
  }

  /** @internal Counts and logs a rejection. */
  reject(msg: Message, reason: RejectionReason): CheckResult {
    this.rejections[reason]++;
    this.#rejected?.inc({ reason });
    const m = msg as Partial<Message> | null;
    const sender = typeof m?.sender === 'string' ? m.sender : undefined;
    this.#logger?.warn({ reason, sender, id: typeof m?.id === 'string' ? m.id : undefined }, 'message rejected');
    if (this.#onReject) {
      try {
        this.#onReject(sender, reason);
      } catch (err) {
        this.#logger?.warn({ err, reason, sender }, 'onReject hook threw');
      }
    }
    return REJECTED[reason];
  }

  /**
   * The next message from `transport` that passes `check`, or `null` on timeout or stop.
   * Refused messages are consumed, counted and logged. With `pool`, messages already waiting
   * are taken in batches and their signatures checked on worker threads; order is kept.
   */
  async receive(transport: Transport, options: ReceiveVerifiedOptions = {}): Promise<Message | null> {
    const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    const next = (): Promise<Message | null> =>
      transport.receive({
        signal: options.signal,
        timeoutMs: deadline === undefined ? undefined : Math.max(0, deadline - Date.now()),
      });
    const pool = options.pool;
    if (!pool) {
      for (;;) {
        const msg = await next();
        if (msg === null) return null;
        if (this.check(msg).ok) {
          await this.#durable();
          return msg;
        }
      }
    }
    let st = this.#pipelines.get(transport);
    if (!st) this.#pipelines.set(transport, (st = { ready: [], batches: [] }));
    const max = options.batchSize ?? DEFAULT_VERIFY_BATCH;
    for (;;) {
      if (st.ready.length > 0) {
        await this.#durable();
        return st.ready.shift()!;
      }
      if (st.batches.length === 0) {
        const first = await next();
        if (first === null) return null;
        st.batches.push(this.#startBatch(gather(transport, [first], max), pool));
      }
      // Keep a second batch on the workers while this thread waits for the first (and decodes
      // what the transport reads meanwhile), so every core has work. Settled in arrival order.
      while (st.batches.length < PIPELINE_DEPTH) {
        const more = gather(transport, [], max);
        if (more.length === 0) break;
        st.batches.push(this.#startBatch(more, pool));
      }
      const head = st.batches.shift()!;
      for (const m of this.#settle(head, await head.results)) st.ready.push(m);
    }
  }

  /**
   * Checks a batch as `check` does each message, with the signatures verified on `pool`'s
   * worker threads (replay, skew and counting stay on this thread; results in input order).
   * If the pool fails (stopped, full, a worker died), the batch is verified on this thread:
   * no message is lost or let through unchecked.
   */
  async checkBatch(messages: readonly Message[], pool: VerifierPool): Promise<CheckResult[]> {
    const batch = this.#startBatch(messages, pool);
    return this.#settleResults(batch, await batch.results);
  }

  // A message is handed out only once its replay state is stored (with `replayStore`); no
  // extra turn of the event loop without one.
  async #durable(): Promise<void> {
    if (this.#persisted?.busy) await this.#persisted.flush();
  }

  // Prechecks a batch (nothing counted yet) and sends the signatures that need it to the pool.
  #startBatch(messages: readonly Message[], pool: VerifierPool): PoolBatch {
    const startedAt = performance.now();
    const keys = messages.map((m) => this.precheck(m));
    const toVerify: Message[] = [];
    const verifyKeys: Uint8Array[] = [];
    for (let i = 0; i < messages.length; i++) {
      const k = keys[i]!;
      if (typeof k !== 'string') {
        toVerify.push(messages[i]!);
        verifyKeys.push(k);
      }
    }
    const onThread = (): boolean[] => toVerify.map((m, i) => verifyMessage(m, verifyKeys[i]!));
    const results =
      toVerify.length === 0
        ? Promise.resolve([])
        : pool.verifyBatch(toVerify, verifyKeys).catch((err: unknown) => {
            this.#logger?.warn({ err, messages: toVerify.length }, 'verifier pool failed; verifying the batch on the main thread');
            return onThread();
          });
    return { messages, keys, results, startedAt };
  }

  #settleResults(batch: PoolBatch, signatures: readonly boolean[]): CheckResult[] {
    let j = 0;
    const verdicts = batch.messages.map((m, i) => {
      const k = batch.keys[i]!;
      return typeof k === 'string' ? this.reject(m, k) : this.complete(m, signatures[j++]!);
    });
    this.#observeBatch(batch);
    return verdicts;
  }

  // On the pool a message has no time of its own: each one of a batch counts the batch's time
  // (precheck, workers' verify, settle) divided by its size, so the histogram's sum stays the
  // time spent and its count the messages checked, as on the main thread.
  #observeBatch(batch: PoolBatch): void {
    const latency = this.#latency;
    const n = batch.messages.length;
    if (latency === undefined || n === 0) return;
    const each = (performance.now() - batch.startedAt) / 1000 / n;
    for (let i = 0; i < n; i++) latency.observe(undefined, each);
  }

  #settle(batch: PoolBatch, signatures: readonly boolean[]): Message[] {
    const verdicts = this.#settleResults(batch, signatures);
    return batch.messages.filter((_, i) => verdicts[i]!.ok);
  }
}

// A batch on its way through the pool: prechecked keys (or the reason to refuse) and the
// workers' answers for the messages that had a key.
interface PoolBatch {
  messages: readonly Message[];
  keys: readonly (Uint8Array | RejectionReason)[];
  results: Promise<boolean[]>;
  /** `performance.now()` when the batch was prechecked and sent. */
  startedAt: number;
}

// Batches in flight per transport in `receive` with a pool: one being verified while the
// next is gathered and sent (two cores busy); more would only add latency.
const PIPELINE_DEPTH = 2;

// `batch` topped up with the messages already waiting on `transport`, up to `max`.
function gather(transport: Transport, batch: Message[], max: number): Message[] {
  while (batch.length < max) {
    const m = takeWaiting(transport);
    if (m === null) break;
    batch.push(m);
  }
  return batch;
}

// A message that is already waiting, without blocking: `tryReceive` where the transport has
// it; otherwise nothing (a zero timeout would still cost a timer turn on some transports).
function takeWaiting(transport: Transport): Message | null {
  return transport.tryReceive ? transport.tryReceive() : null;
}

// One default verifier per registry instance, so repeated `receiveVerified(t, registry)`
// calls share a replay cache (a fresh cache per call would let every replay through).
const defaultVerifiers = new WeakMap<IdentityRegistry, MessageVerifier>();

/** The verifier `receiveVerified` uses for a bare registry (default skew and cache sizes). */
export function defaultVerifierFor(registry: IdentityRegistry): MessageVerifier {
  let v = defaultVerifiers.get(registry);
  // No `self` here: a bare registry says nothing about who is receiving.
  if (!v) defaultVerifiers.set(registry, (v = new MessageVerifier({ registry })));
  return v;
}

/**
 * The next message from `transport` whose signature verifies against its sender's registered
 * key and that is not a replay (timestamp outside ±skew, or an id already seen). Resolves
 * `null` on timeout or stop. Pass a `MessageVerifier` to choose skew, cache sizes, `self`
 * (refuse messages addressed to others), a persisted replay state, metrics and logger; a bare registry uses `defaultVerifierFor(registry)`.
 */
export function receiveVerified(
  transport: Transport,
  verifier: IdentityRegistry | MessageVerifier,
  options: ReceiveVerifiedOptions = {},
): Promise<Message | null> {
  const v = verifier instanceof MessageVerifier ? verifier : defaultVerifierFor(verifier);
  return v.receive(transport, options);
}
