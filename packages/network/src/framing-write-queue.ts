import { AbortError, QueueFullError } from '@converge/core';

/** Default most frames waiting to be written to one peer: 8,192. */
export const DEFAULT_MAX_QUEUE_PER_PEER = 8_192;

/** Default most bytes waiting to be written to one peer: 64 MiB (67,108,864). */
export const DEFAULT_MAX_QUEUE_BYTES_PER_PEER = 64 * 1024 * 1024;

/** One frame waiting to be written, and the `send` call waiting for it. */
export interface PendingWrite {
  /**
   * The bytes to write: a complete frame, or (for a queue built with `headerBytes` > 0) the
   * frame body, whose length prefix the writer adds when it copies it out.
   */
  readonly data: Uint8Array;
  /** Settles the `send` call. */
  resolve(): void;
  reject(err: unknown): void;
  /** Set once settled (written, failed or aborted). */
  done: boolean;
  cleanup: (() => void) | undefined;
}

// The settle functions of the promise built last: one shared executor instead of a closure per
// \`enqueue\` (a send without a signal allocates only its promise and its entry).
let capturedResolve: () => void = () => undefined;
let capturedReject: (err: unknown) => void = () => undefined;
function captureSettlers(resolve: () => void, reject: (err: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * The bounded queue of frames waiting for one connection (while it connects, or while the
 * socket's buffer drains). Bounded by count and by bytes; beyond either, `enqueue` rejects
 * with `QueueFullError` at once (never waits, never drops). A `send` whose signal aborts
 * while its frame waits is taken out of the queue and rejects with `AbortError`.
 */
export class WriteQueue {
  /** Most frames held. */
  readonly maxFrames: number;
  /** Most bytes held. */
  readonly maxBytes: number;
  /** Bytes counted per frame on top of `data` (the prefix a writer adds; 0 when `data` is the whole frame). */
  readonly headerBytes: number;
  #items: PendingWrite[] = [];
  #head = 0;
  #bytes = 0;
  #live = 0;

  readonly #onAbort: ((err: AbortError) => void) | undefined;

  /**
   * `onAbort` is told of every send aborted while its frame waited (for counting).
   * `headerBytes` is added to each entry's size in the byte accounting (default 0).
   */
  constructor(maxFrames: number, maxBytes: number, onAbort?: (err: AbortError) => void, headerBytes = 0) {
    this.maxFrames = maxFrames;
    this.maxBytes = maxBytes;
    this.headerBytes = headerBytes;
    this.#onAbort = onAbort;
  }

  /** Whether a frame of `bytes` bytes would be accepted now. */
  hasRoom(bytes: number): boolean {
    return this.#live < this.maxFrames && this.#bytes + bytes <= this.maxBytes;
  }

  /** Frames waiting (aborted ones excluded). */
  get size(): number {
    return this.#live;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Queues a frame; the promise settles when it is written or fails. */
  enqueue(data: Uint8Array, signal?: AbortSignal): Promise<void> {
    const size = data.byteLength + this.headerBytes;
    if (!this.hasRoom(size)) {
      return Promise.reject(
        new QueueFullError(`peer write queue full (${this.#live} frames, ${this.#bytes} bytes; limits ${this.maxFrames}, ${this.maxBytes})`),
      );
    }
    const promise = new Promise<void>(captureSettlers);
    const entry: PendingWrite = { data, resolve: capturedResolve, reject: capturedReject, done: false, cleanup: undefined };
    if (signal) this.#watchAbort(entry, signal, size);
    this.#items.push(entry);
    this.#live++;
    this.#bytes += size;
    return promise;
  }

  // Takes `entry` (of `size` bytes) out of the queue and rejects it when `signal` aborts first.
  #watchAbort(entry: PendingWrite, signal: AbortSignal, size: number): void {
    const onAbort = (): void => {
      if (entry.done) return;
      entry.done = true;
      this.#live--;
      this.#bytes -= size;
      const err = new AbortError('send aborted', { cause: signal.reason });
      this.#onAbort?.(err);
      entry.reject(err);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    entry.cleanup = () => signal.removeEventListener('abort', onAbort);
  }

  /**
   * Takes waiting frames, in order, up to `maxBytes` in total (at least one). The caller
   * must settle each with `settle`.
   */
  take(maxBytes: number): PendingWrite[] {
    const out: PendingWrite[] = [];
    let total = 0;
    const items = this.#items;
    const hdr = this.headerBytes;
    while (this.#head < items.length) {
      const e = items[this.#head]!;
      if (e.done) {
        items[this.#head++] = undefined as unknown as PendingWrite;
        continue;
      }
      const size = e.data.byteLength + hdr;
      if (out.length > 0 && total + size > maxBytes) break;
      items[this.#head++] = undefined as unknown as PendingWrite;
      out.push(e);
      total += size;
      this.#live--;
      this.#bytes -= size;
    }
    this.#compact();
    return out;
  }

  /** Takes the next waiting frame, or `undefined`. The caller must settle it with `settleOne`. */
  takeOne(): PendingWrite | undefined {
    const items = this.#items;
    let out: PendingWrite | undefined;
    while (this.#head < items.length) {
      const e = items[this.#head]!;
      items[this.#head++] = undefined as unknown as PendingWrite;
      if (e.done) continue;
      this.#live--;
      this.#bytes -= e.data.byteLength + this.headerBytes;
      out = e;
      break;
    }
    this.#compact();
    return out;
  }

  /** Settles one taken entry: resolved, or rejected with `err`. */
  static settleOne(e: PendingWrite, err?: unknown): void {
    if (e.done) return;
    e.done = true;
    if (e.cleanup !== undefined) e.cleanup();
    if (err === undefined) e.resolve();
    else e.reject(err);
  }

  #compact(): void {
    const items = this.#items;
    if (this.#head === items.length) {
      if (items.length > 0) {
        items.length = 0;
        this.#head = 0;
      }
    } else if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Settles taken entries: resolved, or rejected with `err`. */
  static settle(entries: PendingWrite[], err?: unknown): void {
    for (let i = 0; i < entries.length; i++) WriteQueue.settleOne(entries[i]!, err);
  }

  /** Rejects every waiting frame with `err` and empties the queue. Returns how many. */
  failAll(err: unknown): number {
    const entries = this.take(Number.POSITIVE_INFINITY);
    WriteQueue.settle(entries, err);
    return entries.length;
  }
}
