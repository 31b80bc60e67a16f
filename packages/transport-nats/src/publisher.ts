// The send side of a NatsTransport: subject routing, publish batching, flush windows (bounded
// unconfirmed data) and JetStream publishes with PubAck.
import { AbortError, encodeMessage, FrameTooLargeError, TransportError, type Message } from '@converge/core';
import type { NatsConfig } from './config.js';
import { isSubjectToken } from './subjects.js';
import type { Session } from './session.js';
import { noop, publishError, RESOLVED } from './shared.js';

// Most subjects a Publisher keeps per kind (recipient, JetStream recipient, namespace) before
// starting over: a bound on memory for a sender that talks to very many agents.
const SUBJECT_CACHE_MAX = 4096;

/** Publishes a transport's messages on its current session. Internal; one per transport. */
export class Publisher {
  readonly #cfg: NatsConfig;
  // Subjects computed per recipient / namespace (string building, the token check, and the
  // namespace escaping are otherwise done for every message). Only valid recipients are stored.
  readonly #agentSubjects = new Map<string, string>();
  readonly #jsAgentSubjects = new Map<string, string>();
  readonly #topicSubjects = new Map<string, string>();

  constructor(cfg: NatsConfig) {
    this.#cfg = cfg;
  }

  /** The subject of `recipient` (JetStream or core), or `undefined` when it is not a valid token. */
  #recipientSubject(recipient: string, js: boolean): string | undefined {
    const cache = js ? this.#jsAgentSubjects : this.#agentSubjects;
    let subject = cache.get(recipient);
    if (subject !== undefined) return subject;
    if (!isSubjectToken(recipient)) return undefined;
    subject = js ? this.#cfg.subjects.jsAgent(recipient) : this.#cfg.subjects.agent(recipient);
    if (cache.size >= SUBJECT_CACHE_MAX) cache.clear();
    cache.set(recipient, subject);
    return subject;
  }

  #topicSubject(namespace: string): string {
    const cache = this.#topicSubjects;
    let subject = cache.get(namespace);
    if (subject === undefined) {
      subject = this.#cfg.subjects.topic(namespace);
      if (cache.size >= SUBJECT_CACHE_MAX) cache.clear();
      cache.set(namespace, subject);
    }
    return subject;
  }

  /** `NatsTransport.send` on a started session: see there. */
  send(s: Session, message: Message): Promise<void> {
    const cfg = this.#cfg;
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(message);
    } catch (err) {
      return Promise.reject(err);
    }
    if (bytes.byteLength > s.limit) return Promise.reject(new FrameTooLargeError(bytes.byteLength, s.limit));
    const recipient = message.recipient;
    let directed: string | undefined;
    if (recipient !== null) {
      directed = this.#recipientSubject(recipient, cfg.directedJs);
      if (directed === undefined) {
        return Promise.reject(new TransportError(`recipient ${JSON.stringify(recipient)} cannot be a NATS subject token`, { code: 'ERR_INVALID_RECIPIENT' }));
      }
      if (cfg.directedJs) return this.#sendJs(s, directed, bytes);
    }
    if (s.deferredError) {
      const err = s.deferredError;
      s.deferredError = undefined;
      return Promise.reject(err);
    }
    if (s.nc.isClosed() || s.nc.isDraining()) {
      return Promise.reject(new TransportError('NATS connection is closed', { code: 'ERR_CONNECTION_CLOSED' }));
    }
    if (directed !== undefined) this.#publish(s, directed, bytes);
    else if (message.topics.length === 0) this.#publish(s, cfg.subjects.broadcast, bytes);
    else {
      const seen = message.topics.length > 1 ? new Set<string>() : undefined;
      for (const t of message.topics) {
        if (seen) {
          if (seen.has(t.namespace)) continue;
          seen.add(t.namespace);
        }
        this.#publish(s, this.#topicSubject(t.namespace), bytes);
      }
    }
    cfg.stats.sent++;
    s.unflushed += bytes.byteLength;
    if (s.unflushed < cfg.flushWindow) return RESOLVED;
    s.unflushed = 0;
    const err = this.publishBatch(s);
    if (err) return Promise.reject(err);
    const previous = s.flushing;
    const f = s.nc.flush().catch((e: unknown) => {
      throw publishError(e, 'NATS flush failed');
    });
    f.catch(noop); // observed by the next window's send; never an unhandled rejection
    s.flushing = f;
    return previous ?? RESOLVED;
  }

  // nats.js writes its outbound buffer to the socket in a microtask after the first publish
  // into an empty buffer; an agent loop that awaits each send would then make one socket
  // write per message. Publishes are coalesced until the next macrotask (or the end of a flush
  // window) and handed to nats.js together: one write for the whole batch.
  #publish(s: Session, subject: string, bytes: Uint8Array): void {
    s.batchSubjects.push(subject);
    s.batchData.push(bytes);
    if (!s.batchScheduled) {
      s.batchScheduled = true;
      setImmediate(this.#flushBatchSoon, s);
    }
  }

  readonly #flushBatchSoon = (s: Session): void => {
    s.batchScheduled = false;
    const err = this.publishBatch(s);
    if (err) s.deferredError = err;
  };

  /**
   * Hands the coalesced publishes to nats.js, in order. A failure (the connection closed since
   * the sends resolved) is counted, logged and returned.
   */
  publishBatch(s: Session): TransportError | undefined {
    const subjects = s.batchSubjects;
    const data = s.batchData;
    const n = subjects.length;
    if (n === 0) return undefined;
    let i = 0;
    try {
      for (; i < n; i++) s.nc.publish(subjects[i]!, data[i]!);
      return undefined;
    } catch (err) {
      const lost = n - i;
      const cfg = this.#cfg;
      cfg.metrics.dropped('publish_failed', lost);
      cfg.stats.publishFailed += lost;
      cfg.logger?.error({ agent: cfg.agentId, count: lost, err: (err as Error)?.message }, 'NATS publish failed; messages lost');
      return publishError(err, `NATS publish failed (${lost} messages lost)`);
    } finally {
      subjects.length = 0;
      data.length = 0;
    }
  }

  async #sendJs(s: Session, subject: string, bytes: Uint8Array): Promise<void> {
    try {
      await s.js!.publish(subject, bytes);
    } catch (err) {
      throw publishError(err, 'JetStream publish failed');
    }
    this.#cfg.stats.sent++;
  }

  /** `NatsTransport.flush` on a started session: see there. */
  async flush(s: Session, options: { signal?: AbortSignal }): Promise<void> {
    const err = this.publishBatch(s) ?? s.deferredError;
    s.deferredError = undefined;
    if (err) throw err;
    const f = s.nc.flush().catch((err: unknown) => {
      throw publishError(err, 'NATS flush failed');
    });
    const signal = options.signal;
    if (!signal) return f;
    if (signal.aborted) throw new AbortError('flush aborted', { cause: signal.reason });
    let onAbort = noop;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortError('flush aborted', { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    f.catch(noop);
    try {
      await Promise.race([f, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
