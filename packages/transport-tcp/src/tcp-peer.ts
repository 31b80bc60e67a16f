import type net from 'node:net';
import { AbortError, TransportError, abortableSleep } from '@converge/core';
import { FRAME_HEADER_BYTES } from '@converge/network/internal';
import { WriteQueue, type PendingWrite } from '@converge/network/internal';
import { attachReader, dial, type ReaderContext, type TcpTlsOptions } from './tcp-connection.js';
import { backoffDelay, type Backoff } from '@converge/network/internal';

/**
 * Most bytes coalesced into one `socket.write`: 256 KiB. Frames queued in the same tick are
 * written together (one syscall for many small frames), without building huge buffers.
 */
export const MAX_COALESCED_WRITE_BYTES = 256 * 1024;

/** What a peer link needs from its transport. */
export interface PeerContext extends ReaderContext {
  readonly tls: TcpTlsOptions | undefined;
  readonly connectTimeoutMs: number;
  readonly backoff: Backoff;
  readonly maxQueue: number;
  readonly maxQueueBytes: number;
  /** Aborted by `stop()`. */
  readonly stopSignal: AbortSignal;
  /** Called for each socket the link opens (the transport tracks it to destroy it on stop). */
  track(socket: net.Socket): void;
  /** Called when the link has no connection, no dial under way and nothing queued. */
  onIdle(peer: TcpPeer): void;
}

/**
 * The pooled outbound connection to one address (`host:port`), reused for every frame sent
 * there. Frames wait in a bounded queue while the link connects or the socket drains; frames
 * queued in the same tick are coalesced into one write. On connection loss the next frame (or
 * frames still queued) triggers a new dial cycle: up to `backoff.maxAttempts` attempts with
 * jittered exponential delays; when all fail, every queued send rejects with `TransportError`
 * (`ERR_CONNECT`).
 *
 * A frame counts as sent once it is handed to `socket.write`: a frame written just before the
 * connection drops can be lost with it (TCP gives no end-to-end acknowledgement); frames not
 * yet written when the loss is detected are re-sent on the new connection.
 */
export class TcpPeer {
  /** `host:port` key in the pool. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly #ctx: PeerContext;
  readonly #queue: WriteQueue;
  #socket: net.Socket | undefined;
  #connecting = false;
  #waitingDrain = false;
  #flushScheduled = false;
  #everConnected = false;
  #closed = false;
  readonly #flush = (): void => this.#doFlush();

  constructor(host: string, port: number, ctx: PeerContext) {
    this.host = host;
    this.port = port;
    this.key = `${host}:${port}`;
    this.#ctx = ctx;
    // Bodies are queued unframed: the length prefix is written straight into the coalesced buffer.
    this.#queue = new WriteQueue(ctx.maxQueue, ctx.maxQueueBytes, (err) => ctx.instruments.sendFailed('aborted', err, this.key), FRAME_HEADER_BYTES);
  }

  /** Whether a connection is open. */
  get connected(): boolean {
    return this.#socket !== undefined;
  }

  /** Frames waiting to be written. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Whether a frame of `bytes` bytes (prefix included) fits in the write queue now. */
  hasRoom(bytes: number): boolean {
    return this.#queue.hasRoom(bytes);
  }

  /** Whether the link holds nothing (no socket, no dial, no queued frame). */
  get idle(): boolean {
    return !this.#socket && !this.#connecting && this.#queue.size === 0;
  }

  /**
   * Queues a frame body (an encoded message, at most `maxFrameBytes`: the caller checks); its
   * length prefix is added when written. Resolves once written to the socket.
   */
  send(body: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new TransportError('transport stopped', { code: 'ERR_STOPPED' }));
    const p = this.#queue.enqueue(body, signal);
    if (this.#socket) {
      if (!this.#waitingDrain && !this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(this.#flush);
      }
    } else if (!this.#connecting) void this.#connect();
    return p;
  }

  /** Fails queued sends with `err` and destroys the connection. */
  close(err: unknown): void {
    this.#closed = true;
    this.#queue.failAll(err);
    this.#socket?.destroy();
  }

  async #connect(): Promise<void> {
    const ctx = this.#ctx;
    this.#connecting = true;
    let lastErr: unknown;
    for (let attempt = 0; attempt < ctx.backoff.maxAttempts; attempt++) {
      try {
        await abortableSleep(backoffDelay(ctx.backoff, attempt), ctx.stopSignal);
      } catch {
        break;
      }
      if (this.#closed) break;
      if (this.#queue.size === 0) {
        // Every waiting send was aborted: nothing to connect for.
        this.#connecting = false;
        ctx.onIdle(this);
        return;
      }
      let socket: net.Socket;
      try {
        socket = await dial({ host: this.host, port: this.port, tls: ctx.tls, connectTimeoutMs: ctx.connectTimeoutMs, signal: ctx.stopSignal });
      } catch (err) {
        if (AbortError.is(err)) break;
        lastErr = err;
        ctx.instruments.connectFailed(this.key, attempt + 1, err);
        continue;
      }
      this.#connecting = false;
      if (this.#everConnected || attempt > 0) ctx.instruments.reconnected(this.key);
      this.#everConnected = true;
      this.#attach(socket);
      return;
    }
    this.#connecting = false;
    const err =
      this.#closed || ctx.stopSignal.aborted
        ? new TransportError('transport stopped', { code: 'ERR_STOPPED' })
        : new TransportError(`cannot connect to ${this.key} after ${ctx.backoff.maxAttempts} attempts`, { code: 'ERR_CONNECT', cause: lastErr });
    const n = this.#queue.failAll(err);
    if (n > 0) ctx.instruments.sendFailed(err.code === 'ERR_STOPPED' ? 'stopped' : 'connect', err, this.key, n);
    ctx.onIdle(this);
  }

  #attach(socket: net.Socket): void {
    const ctx = this.#ctx;
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#waitingDrain = false;
    ctx.track(socket);
    socket.on('drain', () => {
      this.#waitingDrain = false;
      this.#doFlush();
    });
    attachReader(socket, ctx, 'outbound', this.key, () => {
      if (this.#socket === socket) this.#socket = undefined;
      this.#waitingDrain = false;
      // Frames still queued go out on a new connection; otherwise the next send dials.
      if (!this.#closed && this.#queue.size > 0 && !this.#connecting) void this.#connect();
      else if (this.idle) ctx.onIdle(this);
    });
    if (this.#closed) socket.destroy();
    else this.#doFlush();
  }

  #doFlush(): void {
    this.#flushScheduled = false;
    const socket = this.#socket;
    if (!socket || this.#waitingDrain) return;
    while (this.#queue.size > 0) {
      if (socket.destroyed || !socket.writable) return; // the close handler re-dials for what is queued
      const batch = this.#queue.take(MAX_COALESCED_WRITE_BYTES);
      if (batch.length === 0) return;
      const data = frameBatch(batch);
      const ok = socket.write(data);
      this.#ctx.instruments.sent(batch.length, data.byteLength);
      WriteQueue.settle(batch);
      if (!ok) {
        this.#waitingDrain = true;
        return;
      }
    }
  }
}

/** The frames of `batch` (prefix, body; prefix, body; ...) in one buffer: one allocation, one copy per body. */
function frameBatch(batch: PendingWrite[]): Buffer {
  let total = 0;
  for (let i = 0; i < batch.length; i++) total += FRAME_HEADER_BYTES + batch[i]!.data.byteLength;
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = 0; i < batch.length; i++) {
    const body = batch[i]!.data;
    const n = body.byteLength;
    out[off] = n >>> 24;
    out[off + 1] = (n >>> 16) & 0xff;
    out[off + 2] = (n >>> 8) & 0xff;
    out[off + 3] = n & 0xff;
    out.set(body, off + FRAME_HEADER_BYTES);
    off += FRAME_HEADER_BYTES + n;
  }
  return out;
}
