// Raw pull requests on durable consumers (one inbox subscription each) and the coalesced
// no-wait fetches of the claim path, written on the core connection (no nats.js consumer
// objects): a claim's fetch is one request, its messages handed out to the claims that share it.
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { FetchLine } from './fetch-line.js';

const NS_PER_MS = 1_000_000;
/** How long past its expiry a pull request is waited for before it is ended here: 5 s. */
const PULL_GRACE_MS = 5_000;
/** How long past its expiry a claim's no-wait fetch is waited for: 200 ms (later deliveries are given back). */
const FETCH_ANSWER_GRACE_MS = 200;

/** What a `$JS.ACK.…` reply subject says about one delivery. */
export interface AckReply {
  streamSeq: number;
  deliveryCount: number;
  /** Messages still pending for the consumer after this one. */
  pending: number;
}

/** Parses a delivery's reply subject (old 9-token and new 12-token forms), or `null`. */
export function parseAckReply(reply: string | undefined): AckReply | null {
  if (!reply?.startsWith('$JS.ACK.')) return null;
  const t = reply.split('.');
  const o = t.length >= 12 ? 4 : t.length === 9 ? 2 : -1;
  if (o < 0) return null;
  return { deliveryCount: Number(t[o + 2]), streamSeq: Number(t[o + 3]), pending: Number(t[o + 6]) };
}

/** A pull request's body. */
export interface PullRequest {
  batch: number;
  no_wait?: boolean;
  /** Nanoseconds. */
  expires?: number;
}

/** Whether `m` is a pull status (404 no messages, 408 timeout, 409 …) rather than a message. */
function isStatus(m: Msg): boolean {
  return !m.reply && (m.headers?.code ?? 0) >= 100;
}

/** How a caller waits for one pull request (see `Pulls.pull`). */
export interface PullOptions {
  /** Stops waiting (the call rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Resolves with what came after this long (ms), even when the server has not ended the request. */
  answerWithinMs?: number;
  /** Gets each delivery that came after the caller stopped waiting (to give it back). */
  late?: (m: Msg) => void;
}

/** One open pull request of `Pulls`. */
interface OpenPull {
  finish: () => void;
}

/**
 * Pull requests on durable consumers, each on its own inbox subscription with a callback (a
 * JetStream delivery carries its stream subject, not the inbox, so one shared inbox could not
 * tell the requests apart). A request ends when `batch` messages came, on the server's
 * end-of-request status (404 no messages, 408 expired, 409 …), or after its expiry plus a grace
 * period. `stop` ends every open request with what it has.
 */
export class Pulls {
  readonly #open = new Set<OpenPull>();
  readonly #lines = new Map<string, FetchLine>();
  /** Pull requests sent so far. */
  sent = 0;
  /** Deliveries that came after their caller stopped waiting (handed to its `late`). */
  late = 0;
  /** Messages read ahead that no claim took in time (given back). */
  givenBack = 0;

  /** @param readAhead - messages a fetch of back-to-back claims reads ahead (0: none; see `FetchLine`). */
  constructor(
    private readonly nc: NatsConnection,
    readonly readAhead = 0,
  ) {}

  /**
   * One pull request on `consumer`: resolves with the messages delivered for it (up to `batch`).
   * The caller stops waiting on `options.signal` (rejects) or after `options.answerWithinMs`
   * (resolves with what came); the request is listened to until it ends all the same, and a
   * delivery that comes after the caller stopped waiting goes to `options.late` (the caller gives
   * it back), so no message is stranded until its ack wait runs out.
   */
  pull(stream: string, consumer: string, req: PullRequest, options: PullOptions = {}): Promise<Msg[]> {
    const { signal, late, answerWithinMs } = options;
    const inbox = createInbox();
    return new Promise<Msg[]>((resolve, reject) => {
      const out: Msg[] = [];
      let delivered = 0;
      let waiting = true;
      const release = (err?: Error): void => {
        if (!waiting) return;
        waiting = false;
        clearTimeout(soft);
        signal?.removeEventListener('abort', onAbort);
        if (err === undefined) resolve(out);
        else reject(err);
      };
      const onAbort = (): void => release((signal?.reason as Error | undefined) ?? new Error('aborted'));
      const p: OpenPull = {
        finish: () => {
          if (!this.#open.delete(p)) return;
          // A full batch or an end status reached `max`: the subscription ended itself (no UNSUB to send).
          if (!sub.isClosed()) sub.unsubscribe();
          clearTimeout(guard);
          release();
        },
      };
      const sub: Subscription = this.nc.subscribe(inbox, {
        // At most `batch` messages come, or fewer and an end status: so `batch` in all.
        max: req.batch,
        callback: (_err, m) => {
          if (isStatus(m)) return p.finish();
          delivered++;
          if (waiting) out.push(m);
          else {
            this.late++;
            late?.(m);
          }
          if (delivered >= req.batch) p.finish();
        },
      });
      const guard = setTimeout(() => p.finish(), (req.expires ?? 0) / NS_PER_MS + PULL_GRACE_MS);
      const soft = answerWithinMs === undefined ? undefined : setTimeout(() => release(), answerWithinMs);
      this.#open.add(p);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      this.sent++;
      this.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(req), { reply: inbox });
    });
  }

  /**
   * A no-wait fetch of up to `n` messages, coalesced: while one fetch of the consumer is in
   * flight, the demands of the claims that come meanwhile are summed into the next one (one
   * request, one subscription for all of them), and its messages are shared out in order of
   * arrival; with `readAhead`, back-to-back claims are served from messages read ahead (see
   * `FetchLine`). A claim gets fewer than `n` only when the consumer had no more to give.
   */
  fetch(stream: string, consumer: string, n: number, expiresMs: number): Promise<Msg[]> {
    const key = `${stream}\u0000${consumer}`;
    let line = this.#lines.get(key);
    if (!line) {
      line = new FetchLine({ pull: (batch, ms) => this.#noWait(stream, consumer, batch, ms), giveBack: (m) => this.#giveBack(m, 'readAhead') }, this.readAhead);
      this.#lines.set(key, line);
    }
    return line.want(n, expiresMs);
  }

  /**
   * One no-wait fetch. nats-server 2.9 was seen to leave a partly filled no-wait request open
   * (no end status) for seconds: the claims stop waiting shortly after its expiry, and what
   * comes later goes back.
   */
  #noWait(stream: string, consumer: string, batch: number, expiresMs: number): Promise<Msg[]> {
    const answerWithinMs = expiresMs + FETCH_ANSWER_GRACE_MS;
    return this.pull(stream, consumer, { batch, no_wait: true, expires: expiresMs * NS_PER_MS }, { answerWithinMs, late: (m) => this.#giveBack(m) });
  }

  /** Naks a delivery no claim takes (late, or read ahead and not claimed in time). */
  #giveBack(m: Msg, why?: 'readAhead'): void {
    if (why === 'readAhead') this.givenBack++;
    try {
      if (m.reply) this.nc.publish(m.reply, '-NAK');
    } catch {
      // The connection is closed: the server delivers the message again after its ack wait.
    }
  }

  /** Ends every open request with what it has, and gives back the messages read ahead. */
  stop(): void {
    for (const p of [...this.#open]) p.finish();
    for (const line of this.#lines.values()) line.clear();
    this.#lines.clear();
  }
}
