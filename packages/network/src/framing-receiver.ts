import { decodeMessage, type Message, requireInt } from '@converge/core';
import { AsyncQueue } from './async-queue.js';
import type { NetInstruments } from './framing-instruments.js';
import type { ReceiveOptions } from '@converge/core';

/** Default capacity of a network transport's receive queue: 10,000 messages. */
export const DEFAULT_MAX_RECEIVE_QUEUE = 10_000;

/**
 * Default most bytes (frame bodies, as received) held in a network transport's receive queue:
 * 64 MiB. Without it the count bound alone allowed 10,000 x 10 MiB.
 */
export const DEFAULT_MAX_RECEIVE_QUEUE_BYTES = 64 * 1024 * 1024;

/** Something whose inbound data can be paused (a `net.Socket`, a `ws` WebSocket). */
export interface PausableSource {
  pause(): unknown;
  resume(): unknown;
}

/**
 * The one bounded receive queue of a network transport, fed by every connection.
 *
 * Bounded by count (`maxSize`) and by bytes (`maxBytes`, the frame bodies as received).
 * Backpressure instead of loss: once the queue is half full (by count or by bytes), every
 * connection is paused (the kernel buffers fill and TCP flow control slows the senders);
 * reading resumes when the consumer has brought both down to a quarter. The half left free absorbs what is already in
 * flight when the pause happens (at most one read per connection: up to 64 KiB on TCP, a few
 * hundred small frames), so the drop path (`droppedReceiveQueueFull`, logged and counted) is a
 * safety net, not a policy, as long as `maxSize` is well above twice what one read carries per
 * connection. The resume depends on the queue's `bytes` staying exact (it once went NaN when
 * the ring grew, and a paused connection was never resumed: a silent stall and loss).
 *
 * A frame whose body is not a valid message is dropped, logged and counted (`malformed`): the
 * length prefix delimited it, so the stream stays in sync and the connection continues.
 */
export class FrameReceiver {
  /** Capacity of the queue. */
  readonly maxSize: number;
  /** Most bytes held (frame bodies). */
  readonly maxBytes: number;
  readonly #queue: AsyncQueue<Message>;
  readonly #sources = new Set<PausableSource>();
  readonly #instruments: NetInstruments;
  readonly #limits: { readonly maxBytes: number };
  readonly #pauseAt: number;
  readonly #resumeAt: number;
  readonly #pauseAtBytes: number;
  readonly #resumeAtBytes: number;
  #paused = false;

  constructor(options: { maxSize?: number; maxBytes?: number; maxFrameBytes: number; instruments: NetInstruments }) {
    const max = options.maxSize ?? DEFAULT_MAX_RECEIVE_QUEUE;
    requireInt(max, 'maxReceiveQueue', { min: 4, error: 'validation' });
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_RECEIVE_QUEUE_BYTES;
    requireInt(maxBytes, 'maxReceiveQueueBytes', { min: 4, error: 'validation' });
    this.maxSize = max;
    this.maxBytes = maxBytes;
    this.#queue = new AsyncQueue<Message>({ maxSize: max, maxBytes, overflow: 'reject' });
    this.#instruments = options.instruments;
    this.#limits = { maxBytes: options.maxFrameBytes };
    this.#pauseAt = Math.ceil(max / 2);
    this.#resumeAt = Math.floor(max / 4);
    this.#pauseAtBytes = Math.ceil(maxBytes / 2);
    this.#resumeAtBytes = Math.floor(maxBytes / 4);
  }

  /** Bytes (frame bodies) of the messages waiting. */
  get bytes(): number {
    return this.#queue.bytes;
  }

  /** Messages waiting. */
  get size(): number {
    return this.#queue.size;
  }

  /** Whether inbound connections are paused because the queue is filling up. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Registers a connection to pause and resume with the queue. */
  attach(source: PausableSource): void {
    this.#sources.add(source);
    if (this.#paused) source.pause();
  }

  /** Forgets a connection. */
  detach(source: PausableSource): void {
    this.#sources.delete(source);
  }

  /**
   * Decodes a frame body and queues the message. A body that does not decode is counted as
   * `malformed` and dropped. Returns the message when it was queued.
   */
  deliver(body: Uint8Array, remote: string): Message | undefined {
    let msg: Message;
    try {
      msg = decodeMessage(body, this.#limits);
    } catch (err) {
      this.#instruments.rejected('malformed', { remote, bytes: body.byteLength }, err);
      return undefined;
    }
    const q = this.#queue;
    if (!q.push(msg, body.byteLength)) {
      if (!q.closed) {
        this.#instruments.droppedQueueFull(remote, {
          queued: q.size,
          queuedBytes: q.bytes,
          bytes: body.byteLength,
          maxSize: this.maxSize,
          maxBytes: this.maxBytes,
        });
      }
      return undefined;
    }
    if (!this.#paused && (q.size >= this.#pauseAt || q.bytes >= this.#pauseAtBytes)) {
      this.#paused = true;
      for (const s of this.#sources) s.pause();
    }
    return msg;
  }

  /** The next message, `null` on timeout or close. */
  receive(options?: ReceiveOptions): Promise<Message | null> {
    const q = this.#queue;
    if (q.size > 0) {
      // Fast path: a message is waiting; no waiter, no extra promise hop.
      const m = q.tryShift();
      if (this.#paused) this.#maybeResume();
      return Promise.resolve(m);
    }
    const p = q.shift(options);
    if (!this.#paused) return p;
    return p.then((m) => {
      if (this.#paused) this.#maybeResume();
      return m;
    });
  }

  /** The next message without waiting, or `null`. */
  tryReceive(): Message | null {
    const m = this.#queue.tryShift();
    if (this.#paused) this.#maybeResume();
    return m;
  }

  /** Resolves pending receives with `null` and discards what is queued. Returns how many were discarded. */
  close(): number {
    const n = this.#queue.drain().length;
    this.#queue.close();
    this.#sources.clear();
    return n;
  }

  #maybeResume(): void {
    const q = this.#queue;
    if (q.size <= this.#resumeAt && q.bytes <= this.#resumeAtBytes) this.#resume();
  }

  #resume(): void {
    this.#paused = false;
    for (const s of this.#sources) s.resume();
  }
}
