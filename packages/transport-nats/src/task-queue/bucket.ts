// The JetStream pieces the task queue is made of: a KV-layout bucket (a stream `KV_<bucket>`
// on `$KV.<bucket>.>`, one message per key, the stream sequence as revision) read with direct
// get and written with `Nats-Expected-Last-Subject-Sequence` (revision CAS), and raw pull
// requests on a durable consumer. Written on `@nats-io/jetstream` alone (no `@nats-io/kv`):
// the bucket has the layout `nats kv` reads, so the CLI can inspect it.
import { StoreError } from '@converge/core';
import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { parseAckReply, type Pulls } from './pulls.js';
import { AckPolicy, DeliverPolicy, DiscardPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';

const NS_PER_MS = 1_000_000;
/** How long a record write waits for the server's PubAck: 5 s. */
const PUT_TIMEOUT_MS = 5_000;
/** The header of a revision CAS. */
const EXPECTED_LAST_SUBJECT_SEQUENCE = 'Nats-Expected-Last-Subject-Sequence';
/** JetStream's error code for a failed `Nats-Expected-Last-Subject-Sequence`. */
const WRONG_LAST_SEQUENCE = 10071;

/** A subject token for an arbitrary string (base64url: only `[A-Za-z0-9_-]`, never `.`, `*`, `>`). */
export function token(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

/** The string of a `token`. */
export function untoken(t: string): string {
  return Buffer.from(t, 'base64url').toString('utf8');
}

/** Status of a direct get that found no message. */
const NOT_FOUND = 404;
/** Header of a direct get's answer: the stream sequence of the message. */
const DIRECT_SEQUENCE = 'Nats-Sequence';
const EMPTY = new Uint8Array(0);

/** A JetStream publish's answer (PubAck): the stream sequence, or the error. */
export interface PubAck {
  seq?: number;
  duplicate?: boolean;
  error?: { err_code?: number; description?: string };
}

/**
 * Publishes `data` to a stream's `subject` and resolves with the server's PubAck (rejects when
 * no answer comes in time, or no stream takes the subject): the same publish as `js.publish`,
 * without its per-call retry and error-context objects (a measurable part of a submit or claim).
 */
export async function publishAcked(replies: Replies, subject: string, data: Uint8Array, headers?: MsgHdrs): Promise<PubAck> {
  return (await replies.request(subject, data, headers, PUT_TIMEOUT_MS)).json<PubAck>();
}

/** Header of a KV removal marker (`DEL` or `PURGE`, as `nats kv` writes them). */
export const KV_OPERATION = 'KV-Operation';

/** One key's current value and revision. */
export interface Entry {
  key: string;
  value: Uint8Array;
  revision: number;
  headers?: MsgHdrs;
}

/**
 * Requests answered on one wildcard inbox subscription, for the record writes of the claim and
 * report path: nats.js's own `request` builds an error object (a stack trace) for every call
 * even when it succeeds; this keeps one timer and one map entry per request instead.
 */
export class Replies {
  readonly #prefix = `${createInbox()}.`;
  readonly #sub: Subscription;
  readonly #open = new Map<string, { resolve: (m: Msg) => void; reject: (err: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  #seq = 0;

  constructor(private readonly nc: NatsConnection) {
    this.#sub = nc.subscribe(`${this.#prefix}*`, {
      callback: (_err, m) => {
        const key = m.subject.slice(this.#prefix.length);
        const o = this.#open.get(key);
        if (!o) return;
        this.#open.delete(key);
        clearTimeout(o.timer);
        if (m.headers?.code === 503) o.reject(new Error('no responders (no stream on this subject)'));
        else o.resolve(m);
      },
    });
  }

  /** Publishes `data` to `subject` and resolves with the one reply (rejects after `timeoutMs`). */
  request(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, timeoutMs: number): Promise<Msg> {
    const key = String(++this.#seq);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#open.delete(key);
        reject(new Error(`no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#open.set(key, { resolve, reject, timer });
      this.nc.publish(subject, data, { reply: this.#prefix + key, ...(headers ? { headers } : {}) });
    });
  }

  /** Ends the subscription; open requests fail. */
  close(): void {
    for (const o of this.#open.values()) {
      clearTimeout(o.timer);
      o.reject(new Error('closed'));
    }
    this.#open.clear();
    if (!this.#sub.isClosed()) this.#sub.unsubscribe();
  }
}

/** A KV-layout bucket with revision CAS. */
export class Bucket {
  readonly stream: string;
  readonly #prefix: string;

  constructor(
    readonly name: string,
    private readonly replies: Replies,
    private readonly pulls: Pulls,
    private readonly jsm: JetStreamManager,
  ) {
    this.stream = `KV_${name}`;
    this.#prefix = `$KV.${name}.`;
  }

  /** The subject of `key`. */
  subject(key: string): string {
    return this.#prefix + key;
  }

  /** Creates the bucket's stream when missing (a KV layout: history 1, direct get, rollups). */
  async ensure(maxMsgs: number): Promise<void> {
    try {
      await this.jsm.streams.info(this.stream);
      return;
    } catch {
      // missing: create below
    }
    try {
      await this.jsm.streams.add({
        name: this.stream,
        subjects: [`${this.#prefix}>`],
        max_msgs_per_subject: 1,
        max_msgs: maxMsgs,
        discard: DiscardPolicy.New,
        storage: StorageType.File,
        allow_direct: true,
        allow_rollup_hdrs: true,
        deny_delete: false,
        num_replicas: 1,
      });
    } catch (err) {
      // Another client may have created it at the same moment.
      await this.jsm.streams.info(this.stream).catch(() => {
        throw new StoreError(`cannot create bucket stream ${this.stream}: ${(err as Error).message}`, { cause: err });
      });
    }
  }

  /**
   * The current entry of `key`, or `null` (none, or a removal marker): a direct get
   * (`last_by_subj` in the subject), as a plain request for the reason `put` gives.
   */
  async get(key: string): Promise<Entry | null> {
    let m: Msg;
    try {
      m = await this.replies.request(`$JS.API.DIRECT.GET.${this.stream}.${this.subject(key)}`, EMPTY, undefined, PUT_TIMEOUT_MS);
    } catch (err) {
      throw new StoreError(`cannot read ${key} in ${this.stream}: ${(err as Error).message}`, { cause: err, key });
    }
    const h = m.headers;
    if (h?.code === NOT_FOUND) return null;
    if (!h || h.code !== 0) throw new StoreError(`cannot read ${key} in ${this.stream}: ${h?.description || `status ${h?.code ?? 'missing'}`}`, { key });
    if (h.get(KV_OPERATION)) return null;
    return { key, value: m.data, revision: Number(h.get(DIRECT_SEQUENCE)), headers: h };
  }

  /**
   * Writes `key` when its revision is still `expected` (0: the key must not exist); returns the
   * new revision, or `null` when the CAS lost. Without `expected` the write is unconditional.
   */
  async put(key: string, value: Uint8Array, expected?: number, headers?: MsgHdrs): Promise<number | null> {
    let h = headers;
    if (expected !== undefined) {
      h ??= natsHeaders();
      h.set(EXPECTED_LAST_SUBJECT_SEQUENCE, String(expected));
    }
    let ack: PubAck;
    try {
      ack = await publishAcked(this.replies, this.subject(key), value, h);
    } catch (err) {
      throw new StoreError(`cannot write ${key} in ${this.stream}: ${(err as Error).message}`, { cause: err, key });
    }
    if (ack.error) {
      if (ack.error.err_code === WRONG_LAST_SEQUENCE) return null;
      throw new StoreError(`cannot write ${key} in ${this.stream}: ${ack.error.description ?? 'refused'}`, { key });
    }
    if (typeof ack.seq !== 'number') throw new StoreError(`cannot write ${key} in ${this.stream}: no sequence in the server's answer`, { key });
    return ack.seq;
  }

  /** Removes `key` entirely (a subject purge: no tombstone is left to scan over). */
  async purge(key: string): Promise<void> {
    await this.jsm.streams.purge(this.stream, { filter: this.subject(key) });
  }

  /** Removes the entry stored at stream sequence `seq` (O(1); fails when it is gone already). */
  async deleteSeq(seq: number): Promise<void> {
    if (!(await this.jsm.streams.deleteMessage(this.stream, seq, false))) throw new StoreError(`no message ${seq} in ${this.stream}`);
  }

  /**
   * Every current entry under `prefix` (keys `<prefix><rest>`), read through a short-lived
   * ephemeral consumer (last message per subject); stops after `limit` entries. Removal
   * markers are not entries: their stream sequences go to `markers` when given.
   */
  async scan(prefix: string, limit: number, markers?: number[]): Promise<Entry[]> {
    const info = await this.jsm.consumers.add(this.stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.LastPerSubject,
      filter_subject: this.subject(`${prefix}>`),
      inactive_threshold: 30_000 * NS_PER_MS,
      mem_storage: true,
    });
    const out: Entry[] = [];
    try {
      for (;;) {
        const msgs = await this.pulls.pull(this.stream, info.name, { batch: 256, no_wait: true });
        for (const m of msgs) {
          const r = parseAckReply(m.reply);
          if (m.headers?.get(KV_OPERATION)) {
            markers?.push(r?.streamSeq ?? 0);
            continue;
          }
          out.push({ key: m.subject.slice(this.#prefix.length), value: m.data, revision: r?.streamSeq ?? 0, headers: m.headers });
          if (out.length >= limit) return out;
        }
        const last = msgs[msgs.length - 1];
        if (msgs.length === 0 || parseAckReply(last?.reply)?.pending === 0) return out;
      }
    } finally {
      await this.jsm.consumers.delete(this.stream, info.name).catch(() => undefined);
    }
  }
}
