// The coalesced no-wait fetches of one pool consumer on one client, with a short read-ahead:
// while this client's claims come back to back (the last fetch was full, and recent), a claim's
// fetch also asks for up to `readAhead` messages more, kept briefly for the next claims, so those
// cost their record write alone and not a fetch round trip too. Nothing is fetched without a
// claim waiting, and what is not claimed within `READ_AHEAD_HOLD_MS` goes back (a nak): a
// client that stops claiming holds nothing for long (one SIGKILLed holds them to the ack wait).
import type { Msg } from '@nats-io/transport-node';

/** Most messages one coalesced no-wait fetch asks for the claims waiting: 256 (more demand waits for the next fetch). */
const MAX_COALESCED_BATCH = 256;
/**
 * How long a message read ahead is kept for this client's next claims before it goes back: 250 ms.
 * It is also how recent a full fetch must be for the next one to read ahead.
 */
export const READ_AHEAD_HOLD_MS = 250;

/** A claim's share of a coalesced fetch. */
interface Demand {
  n: number;
  got: Msg[];
  expiresMs: number;
  resolve: (msgs: Msg[]) => void;
  reject: (err: unknown) => void;
}

/** A message read ahead, and when it came. */
interface Spare {
  m: Msg;
  at: number;
}

/** What a `FetchLine` needs from its client. */
export interface FetchPort {
  /** One no-wait pull request of `batch` messages with an expiry of `expiresMs`. */
  pull(batch: number, expiresMs: number): Promise<Msg[]>;
  /** Gives a message back to the consumer (a nak), counted by the client. */
  giveBack(m: Msg): void;
}

/** The fetches of one consumer: at most one in flight, the demand that came meanwhile waiting for the next. */
export class FetchLine {
  readonly #port: FetchPort;
  readonly #readAhead: number;
  readonly #waiting: Demand[] = [];
  readonly #spare: Spare[] = [];
  #inFlight = false;
  /** When the last fetch came back with all it asked for (`-Infinity`: it did not). */
  #fullAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(port: FetchPort, readAhead: number) {
    this.#port = port;
    this.#readAhead = readAhead;
  }

  /** Whether the line holds nothing and waits for nothing (it can be forgotten). */
  get idle(): boolean {
    return !this.#inFlight && this.#waiting.length === 0 && this.#spare.length === 0;
  }

  /** Up to `n` messages: read ahead ones first, then from the next fetch. */
  want(n: number, expiresMs: number): Promise<Msg[]> {
    return new Promise<Msg[]>((resolve, reject) => {
      this.#waiting.push({ n, got: [], expiresMs, resolve, reject });
      this.#serve();
      if (this.#waiting.length > 0 && !this.#inFlight) this.#run();
    });
  }

  /** Gives back every message read ahead, and from now on what a fetch in flight brings beyond its claims. */
  clear(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const s of this.#spare.splice(0)) this.#port.giveBack(s.m);
  }

  /** Hands the messages read ahead (the fresh ones) to the claims waiting, in order. */
  #serve(): void {
    this.#dropStale();
    while (this.#waiting.length > 0 && this.#spare.length > 0) {
      const d = this.#waiting[0]!;
      while (d.got.length < d.n && this.#spare.length > 0) d.got.push(this.#spare.shift()!.m);
      if (d.got.length < d.n) break;
      this.#waiting.shift();
      d.resolve(d.got);
    }
  }

  #dropStale(): void {
    const old = performance.now() - READ_AHEAD_HOLD_MS;
    while (this.#spare.length > 0 && this.#spare[0]!.at <= old) this.#port.giveBack(this.#spare.shift()!.m);
  }

  #run(): void {
    const batch: Demand[] = [];
    let need = 0;
    while (this.#waiting.length > 0 && (batch.length === 0 || need + this.#waiting[0]!.n <= MAX_COALESCED_BATCH)) {
      const d = this.#waiting.shift()!;
      batch.push(d);
      need += d.n - d.got.length;
    }
    const streaming = performance.now() - this.#fullAt <= READ_AHEAD_HOLD_MS;
    const total = need + (streaming ? Math.max(0, this.#readAhead - this.#spare.length) : 0);
    this.#inFlight = true;
    this.#port
      .pull(total, Math.max(...batch.map((d) => d.expiresMs)))
      .then(
        (msgs) => this.#share(batch, msgs, total),
        (err: unknown) => {
          for (const d of batch) {
            for (const m of d.got) this.#port.giveBack(m);
            d.reject(err);
          }
        },
      )
      .finally(() => {
        this.#inFlight = false;
        this.#serve();
        if (this.#waiting.length > 0) this.#run();
      });
  }

  /** Shares a fetch's messages out to `batch` in order; the rest is kept for the next claims. */
  #share(batch: readonly Demand[], msgs: readonly Msg[], asked: number): void {
    const now = performance.now();
    this.#fullAt = msgs.length >= asked ? now : Number.NEGATIVE_INFINITY;
    let i = 0;
    for (const d of batch) {
      while (d.got.length < d.n && i < msgs.length) d.got.push(msgs[i++]!);
      d.resolve(d.got);
    }
    for (; i < msgs.length; i++) {
      if (this.#closed) this.#port.giveBack(msgs[i]!);
      else this.#spare.push({ m: msgs[i]!, at: now });
    }
    if (this.#spare.length > 0 && this.#timer === undefined) this.#armStaleTimer();
  }

  /** Gives back what is not claimed in time even when no claim comes to look. */
  #armStaleTimer(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#dropStale();
      if (this.#spare.length > 0) this.#armStaleTimer();
    }, READ_AHEAD_HOLD_MS);
    this.#timer.unref?.();
  }
}
