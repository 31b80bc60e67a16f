import { ValidationError, verifyMessage, type Message } from '@converge/core';
import type { Logger, MetricsCollector } from '@converge/observability';
import { IdentityRegistry } from './registry.js';
import { DEFAULT_REPLAY_CACHE_SIZE, ReplayCache } from './replay.js';
import type { ReceiveOptions, Transport } from './transport.js';
import type { VerifierPool } from './verify-pool.js';

/** Default accepted clock skew between sender and receiver: ±5 minutes. */
export const DEFAULT_SKEW_MS = 5 * 60_000;

/** Default most messages taken from a transport per pool batch. */
export const DEFAULT_VERIFY_BATCH = 256;

/** Why a message was refused. */
export type RejectionReason = 'unknown_sender' | 'bad_signature' | 'stale' | 'replay' | 'malformed';

/** Every rejection reason, in a stable order. */
export const REJECTION_REASONS: readonly RejectionReason[] = ['unknown_sender', 'bad_signature', 'stale', 'replay', 'malformed'];

/** Outcome of `MessageVerifier.check`. */
export type CheckResult = { ok: true } | { ok: false; reason: RejectionReason };

/** Options of `MessageVerifier`. */
export interface MessageVerifierOptions {
  /** Public keys of the senders to accept. */
  registry: IdentityRegistry;
  /** Accepted |now − timestamp| in ms (default 5 minutes). */
  skewMs?: number;
  /** Most message ids remembered against replay (default 100,000). */
  replayCacheSize?: number;
  /** How long an id is remembered (default twice `skewMs`, so a replay cannot outlive its staleness). */
  replayTtlMs?: number;
  /** Clock in Unix ms (default `Date.now`). */
  clock?: () => number;
  /** Counts `converge_messages_rejected_total{reason}` and `converge_messages_verified_total`. */
  metrics?: MetricsCollector;
  /** Logs each rejection (warn) with its reason, sender and id. */
  logger?: Logger;
}

/** Options of `receiveVerified` / `MessageVerifier.receive`. */
export interface ReceiveVerifiedOptions extends ReceiveOptions {
  /** Verifies signatures on worker threads, in batches. */
  pool?: VerifierPool;
  /** Most messages taken from the transport per pool batch (default 256). */
  batchSize?: number;
}

type Counter = ReturnType<MetricsCollector['counter']>;

const OK: CheckResult = Object.freeze({ ok: true });
const REJECTED: Record<RejectionReason, CheckResult> = Object.fromEntries(
  REJECTION_REASONS.map((r) => [r, Object.freeze({ ok: false, reason: r })]),
) as Record<RejectionReason, CheckResult>;

function isWellFormed(msg: Message): boolean {
  return (
    msg !== null && typeof msg === 'object' &&
    typeof msg.id === 'string' && msg.id !== '' &&
    typeof msg.sender === 'string' &&
    Number.isSafeInteger(msg.timestamp) &&
    Array.isArray(msg.topics) &&
    msg.signature instanceof Uint8Array
  );
}

/**
 * Decides whether a received message may be trusted: well-formed, from a registered sender,
 * signed by that sender's key, timestamped within ±`skewMs`, and not seen before (per sender,
 * within `replayTtlMs`). The id is recorded only after the signature verifies, so forged
 * messages cannot fill the replay cache or block a genuine id. Every rejection is counted in
 * `rejections` (and the metrics, if given) and logged.
 */
export class MessageVerifier {
  /** The registry consulted for senders' keys. */
  readonly registry: IdentityRegistry;
  /** Accepted clock skew in ms. */
  readonly skewMs: number;
  /** Rejections so far, by reason. */
  readonly rejections: Record<RejectionReason, number> = { unknown_sender: 0, bad_signature: 0, stale: 0, replay: 0, malformed: 0 };
  /** Messages accepted so far. */
  verified = 0;
  readonly #replay: ReplayCache;
  readonly #clock: () => number;
  readonly #logger: Logger | undefined;
  readonly #rejected: Counter | undefined;
  readonly #accepted: Counter | undefined;
  readonly #ready = new WeakMap<Transport, Message[]>();

  constructor(options: MessageVerifierOptions) {
    if (!(options?.registry instanceof IdentityRegistry)) throw new ValidationError('MessageVerifier needs an IdentityRegistry');
    this.registry = options.registry;
    this.skewMs = options.skewMs ?? DEFAULT_SKEW_MS;
    if (!(this.skewMs >= 0)) throw new ValidationError('skewMs must be >= 0');
    this.#clock = options.clock ?? Date.now;
    this.#replay = new ReplayCache({
      maxSize: options.replayCacheSize ?? DEFAULT_REPLAY_CACHE_SIZE,
      ttlMs: options.replayTtlMs ?? Math.max(1, 2 * this.skewMs),
      clock: this.#clock,
    });
    this.#logger = options.logger;
    this.#rejected = options.metrics?.counter('converge_messages_rejected_total', 'Received messages refused, by reason', ['reason']);
    this.#accepted = options.metrics?.counter('converge_messages_verified_total', 'Received messages that passed verification', []);
  }

  /** Unexpired ids the replay cache evicted because it was full. */
  get replayEvictions(): number {
    return this.#replay.evictions;
  }

  /** Checks one message, verifying its signature on this thread; records its id if accepted. */
  check(msg: Message): CheckResult {
    const pre = this.precheck(msg);
    if (typeof pre === 'string') return this.reject(msg, pre);
    return this.complete(msg, verifyMessage(msg, pre));
  }

  /**
   * @internal First half of `check`: the sender's key, or the reason to refuse before any
   * signature work. Counts nothing.
   */
  precheck(msg: Message): Uint8Array | RejectionReason {
    if (!isWellFormed(msg)) return 'malformed';
    const key = this.registry.peek(msg.sender);
    if (!key) return 'unknown_sender';
    if (Math.abs(this.#clock() - msg.timestamp) > this.skewMs) return 'stale';
    if (msg.signature.byteLength !== 64) return 'bad_signature';
    return key;
  }

  /** @internal Second half of `check`, given the signature's validity: replay check and counting. */
  complete(msg: Message, signatureOk: boolean): CheckResult {
    if (!signatureOk) return this.reject(msg, 'bad_signature');
    // The sender is part of the key: a registered agent cannot pre-empt another's ids.
    if (!this.#replay.add(msg.sender + '\n' + msg.id)) return this.reject(msg, 'replay');
    this.verified++;
    this.#accepted?.inc();
    return OK;
  }

  /** @internal Counts and logs a rejection. */
  reject(msg: Message, reason: RejectionReason): CheckResult {
    this.rejections[reason]++;
    this.#rejected?.inc({ reason });
    const m = msg as Partial<Message> | null;
    this.#logger?.warn(
      { reason, sender: typeof m?.sender === 'string' ? m.sender : undefined, id: typeof m?.id === 'string' ? m.id : undefined },
      'message rejected',
    );
    return REJECTED[reason];
  }

  /**
   * The next message from `transport` that passes `check`, or `null` on timeout or stop.
   * Refused messages are consumed, counted and logged. With `pool`, messages already waiting
   * are taken in batches and their signatures checked on worker threads; order is kept.
   */
  async receive(transport: Transport, options: ReceiveVerifiedOptions = {}): Promise<Message | null> {
    const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    const next = (): Promise<Message | null> => transport.receive({
      signal: options.signal,
      timeoutMs: deadline === undefined ? undefined : Math.max(0, deadline - Date.now()),
    });
    const pool = options.pool;
    if (!pool) {
      for (;;) {
        const msg = await next();
        if (msg === null) return null;
        if (this.check(msg).ok) return msg;
      }
    }
    let ready = this.#ready.get(transport);
    if (!ready) this.#ready.set(transport, (ready = []));
    const max = options.batchSize ?? DEFAULT_VERIFY_BATCH;
    for (;;) {
      if (ready.length > 0) return ready.shift()!;
      const first = await next();
      if (first === null) return null;
      const batch = [first];
      while (batch.length < max) {
        const m = takeWaiting(transport);
        if (m === null) break;
        batch.push(m);
      }
      await this.#verifyBatch(batch, pool, ready);
    }
  }

  async #verifyBatch(batch: Message[], pool: VerifierPool, out: Message[]): Promise<void> {
    const keys: (Uint8Array | RejectionReason)[] = batch.map((m) => this.precheck(m));
    const toVerify: Message[] = [];
    const verifyKeys: Uint8Array[] = [];
    for (let i = 0; i < batch.length; i++) {
      const k = keys[i]!;
      if (typeof k !== 'string') {
        toVerify.push(batch[i]!);
        verifyKeys.push(k);
      }
    }
    const results = toVerify.length > 0 ? await pool.verifyBatch(toVerify, verifyKeys) : [];
    let j = 0;
    for (let i = 0; i < batch.length; i++) {
      const k = keys[i]!;
      const r = typeof k === 'string' ? this.reject(batch[i]!, k) : this.complete(batch[i]!, results[j++]!);
      if (r.ok) out.push(batch[i]!);
    }
  }
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
  if (!v) defaultVerifiers.set(registry, (v = new MessageVerifier({ registry })));
  return v;
}

/**
 * The next message from `transport` whose signature verifies against its sender's registered
 * key and that is not a replay (timestamp outside ±skew, or an id already seen). Resolves
 * `null` on timeout or stop. Pass a `MessageVerifier` to choose skew, cache size, metrics and
 * logger; a bare registry uses `defaultVerifierFor(registry)`.
 */
export function receiveVerified(
  transport: Transport,
  verifier: IdentityRegistry | MessageVerifier,
  options: ReceiveVerifiedOptions = {},
): Promise<Message | null> {
  const v = verifier instanceof MessageVerifier ? verifier : defaultVerifierFor(verifier);
  return v.receive(transport, options);
}
