// The receive side of a NatsTransport: decoding, the bounded receive queue (drops counted and
// logged), own-message and duplicate-namespace filtering, and JetStream hand-out and acks.
import { decodeMessage, type Message } from '@converge/core';
import type { Msg } from '@nats-io/transport-node';
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConfig } from './config.js';
import type { Session } from './session.js';

/** Turns a transport's incoming NATS messages into queued `Message`s. Internal; one per transport. */
export class Receiver {
  readonly #cfg: NatsConfig;
  // decodeMessage's limits, made once rather than per message.
  readonly #limits: { maxBytes: number };

  constructor(cfg: NatsConfig) {
    this.#cfg = cfg;
    this.#limits = { maxBytes: cfg.maxMessageBytes };
  }

  // Takes the nats.js message itself: its `subject` is a getter that decodes the subject bytes
  // (a TextDecoder call per message), read here only to log a malformed one.
  #decode(msg: Msg | JsMsg): Message | undefined {
    const cfg = this.#cfg;
    const data = msg.data;
    try {
      return decodeMessage(data, this.#limits);
    } catch (err) {
      cfg.stats.malformed++;
      cfg.metrics.dropped('malformed', 1);
      if (cfg.stats.malformed === 1 || cfg.stats.malformed % 1000 === 0) {
        cfg.logger?.warn(
          { subject: msg.subject, size: data.byteLength, total: cfg.stats.malformed, err: (err as Error)?.message },
          'NATS payload is not a valid message; dropped',
        );
      }
      return undefined;
    }
  }

  #enqueue(s: Session, m: Message): void {
    const cfg = this.#cfg;
    if (s.queue.push(m)) {
      cfg.stats.received++;
      return;
    }
    if (s.stopping || s.queue.closed) {
      this.countDrop('stopped', 1);
      return;
    }
    cfg.stats.droppedQueueFull++;
    cfg.metrics.dropped('queue_full', 1);
    if (cfg.stats.droppedQueueFull === 1 || cfg.stats.droppedQueueFull % 1000 === 0) {
      cfg.logger?.warn({ agent: cfg.agentId, total: cfg.stats.droppedQueueFull, maxQueue: cfg.maxQueue }, 'NATS receive queue full; message dropped');
    }
  }

  /** Core-NATS directed subject callback. */
  onDirected(s: Session, msg: Msg): void {
    const m = this.#decode(msg);
    if (m) this.#enqueue(s, m);
  }

  /**
   * Broadcast (`ns` undefined) and topic subject callback: skips our own messages; a message
   * with several of our namespaces arrives once per namespace and is kept only from the first.
   */
  onShared(s: Session, msg: Msg, ns: string | undefined): void {
    const m = this.#decode(msg);
    if (!m) return;
    if (m.sender === this.#cfg.agentId) {
      this.#cfg.stats.ownSkipped++;
      return;
    }
    if (ns !== undefined && m.topics.length > 1) {
      for (const t of m.topics) {
        if (t.namespace === ns) break;
        if (s.topicSubs.has(t.namespace)) return;
      }
    }
    this.#enqueue(s, m);
  }

  /** JetStream pull-loop sink: queues a pulled message (remembering it for the ack), or terminates a malformed one. */
  onPulled(s: Session, jm: JsMsg): boolean {
    const m = this.#decode(jm);
    if (!m) {
      jm.term('malformed converge message');
      return false;
    }
    s.inQueue.set(m, jm);
    if (!s.queue.push(m)) {
      s.inQueue.delete(m); // stopping: left un-acked, redelivered after the ack wait
      return false;
    }
    this.#cfg.stats.received++;
    return true;
  }

  /**
   * A message leaving the queue (JetStream mode): acked now with `autoAck`, else kept for
   * `ack`/`nak`; then wakes a pull loop waiting for room.
   */
  handOut(s: Session, m: Message): Message {
    const jm = s.inQueue.get(m);
    if (jm) {
      s.inQueue.delete(m);
      if (this.#cfg.autoAck) {
        jm.ack();
        this.#cfg.stats.acked++;
      } else {
        s.unacked.set(m.id, jm);
      }
    }
    const w = s.roomWaiter;
    if (w) {
      s.roomWaiter = undefined;
      w();
    }
    return m;
  }

  /** Acks a handed-out message by id (`NatsTransport.ack`). */
  ack(s: Session | undefined, messageId: string): boolean {
    const jm = s?.unacked.get(messageId);
    if (!jm) return false;
    s!.unacked.delete(messageId);
    jm.ack();
    this.#cfg.stats.acked++;
    return true;
  }

  /** Gives a handed-out message back by id (`NatsTransport.nak`). */
  nak(s: Session | undefined, messageId: string, delayMs: number | undefined): boolean {
    const jm = s?.unacked.get(messageId);
    if (!jm) return false;
    s!.unacked.delete(messageId);
    try {
      jm.nak(delayMs);
      this.#cfg.stats.nakked++;
    } catch (err) {
      this.#cfg.logger?.warn({ err: (err as Error)?.message }, 'JetStream nak failed; the server redelivers after ack wait');
    }
    return true;
  }

  /** Counts and logs messages discarded because the transport stopped. */
  countDrop(reason: 'stopped', n: number): void {
    const cfg = this.#cfg;
    cfg.stats.droppedOnStop += n;
    cfg.metrics.dropped(reason, n);
    cfg.logger?.warn({ agent: cfg.agentId, reason, count: n }, 'NATS transport dropped queued messages');
  }
}
