// The send side of a NatsTransport: subject routing, publish batching, flush windows (bounded
// unconfirmed data) and JetStream publishes with PubAck.
import { AbortError, encodeMessage, FrameTooLargeError, TransportError, type Message } from '@converge/core';
import type { NatsConfig } from './config.js';
import { isSubjectToken } from './subjects.js';
import type { Session } from './session.js';
import { noop, publishError, RESOLVED } from './shared.js';

/** Publishes a transport's messages on its current session. Internal; one per transport. */
export class Publisher {
  readonly #cfg: NatsConfig;

  constructor(cfg: NatsConfig) {
    this.#cfg = cfg;
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
    if (recipient !== null && !isSubjectToken(recipient)) {
      return Promise.reject(new TransportError(`recipient ${JSON.stringify(recipient)} cannot be a NATS subject token`, { code: 'ERR_INVALID_RECIPIENT' }));
    }
    if (recipient !== null && cfg.directedJs) return this.#sendJs(s, recipient, bytes);
    if (s.deferredError) {
      const err = s.deferredError;
      s.deferredError = undefined;
      return Promise.reject(err);
    }
    if (s.nc.isClosed() || s.nc.isDraining()) {
      return Promise.reject(new TransportError('NATS connection is closed', { code: 'ERR_CONNECTION_CLOSED' }));
    }
    if (recipient !== null) this.#publish(s, cfg.subjects.agent(recipient), bytes);
    else if (message.topics.length === 0) this.#publish(s, cfg.subjects.broadcast, bytes);
    else {
      const seen = message.topics.length > 1 ? new Set<string>() : undefined;
      for (const t of message.topics) {
        if (seen) {
          if (seen.has(t.namespace)) continue;
          seen.add(t.namespace);
        }
        this.#publish(s, cfg.subjects.topic(t.namespace), bytes);
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

  async #sendJs(s: Session, recipient: string, bytes: Uint8Array): Promise<void> {
    try {
      await s.js!.publish(this.#cfg.subjects.jsAgent(recipient), bytes);
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
