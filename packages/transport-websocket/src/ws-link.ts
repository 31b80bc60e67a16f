import type { Message, TransportError } from '@converge/core';
import type WebSocket from 'ws';
import type { NetInstruments } from '@converge/network/internal';
import type { FrameReceiver } from '@converge/network/internal';
import { WriteQueue } from '@converge/network/internal';
import { wsFramePayload } from './ws-frame.js';

/** Default `bufferedAmount` (bytes) above which a WebSocket link stops sending until writes complete: 4 MiB. */
export const DEFAULT_WS_HIGH_WATER_BYTES = 4 * 1024 * 1024;

// One options object for every `ws.send` (ws reads it, never keeps it).
const BINARY = { binary: true } as const;

/** What a link needs from its transport. */
export interface LinkContext {
  readonly maxFrameBytes: number;
  readonly instruments: NetInstruments;
  readonly receiver: FrameReceiver;
  readonly maxQueue: number;
  readonly maxQueueBytes: number;
  readonly highWaterBytes: number;
}

/**
 * Reads converge messages from a WebSocket into the receive queue: each WS message (binary,
 * or text taken as its UTF-8 bytes, as the reference does) is a 4-byte big-endian length and
 * the encoded message. Data shorter than 4 bytes, or shorter than its prefix claims, is
 * ignored, logged and counted (`short`); bytes after the announced length are ignored (as the
 * reference slices them off). Messages over `maxFrameBytes + 4` are refused by `ws` itself
 * (`maxPayload`, before buffering them; the connection closes with 1009) and counted as `oversize`.
 */
export function attachWsReader(ws: WebSocket, ctx: LinkContext, direction: 'inbound' | 'outbound', remote: string, onMessage?: (m: Message) => void): void {
  const { instruments, receiver } = ctx;
  receiver.attach(ws);
  instruments.opened(direction, remote);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    instruments.receivedBytes(data.byteLength);
    if (!isBinary) instruments.text();
    const payload = wsFramePayload(data, ctx.maxFrameBytes, instruments, remote);
    if (!payload) return;
    const m = receiver.deliver(payload, remote);
    if (m) {
      instruments.received(1);
      onMessage?.(m);
    }
  });
  ws.once('close', () => {
    receiver.detach(ws);
    instruments.closed(direction, remote);
  });
}

/**
 * Handles and counts every error `ws` emits on a WebSocket, in every state (handshake,
 * before and after authentication, closing): installed as soon as the object exists, so an
 * invalid frame or an oversize message from a peer closes that one connection and can never
 * become an uncaught exception. A message over `maxPayload` is also counted as `oversize`.
 */
export function guardWsErrors(ws: WebSocket, instruments: NetInstruments, direction: 'inbound' | 'outbound', remote: string, maxFrameBytes: number): void {
  ws.on('error', (err: Error & { code?: string }) => {
    instruments.socketError(direction, remote, err);
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') instruments.rejected('oversize', { remote, limit: maxFrameBytes }, err);
  });
}

/**
 * The sending side of one WebSocket: a bounded queue of frames (count and bytes; beyond,
 * `QueueFullError`), flushed once per tick, one WS binary message per frame. Backpressure:
 * while `ws.bufferedAmount` is over the high-water mark, frames wait; the completion callback
 * of the message that crossed the mark resumes sending.
 */
export class WsLink {
  readonly #ctx: LinkContext;
  readonly #queue: WriteQueue;
  #ws: WebSocket | undefined;
  #scheduled = false;
  #waiting = false;
  readonly #flush = (): void => this.#doFlush();
  readonly #wake = (): void => {
    this.#waiting = false;
    this.#doFlush();
  };

  constructor(ctx: LinkContext, remote: string) {
    this.#ctx = ctx;
    this.#queue = new WriteQueue(ctx.maxQueue, ctx.maxQueueBytes, (err) => ctx.instruments.sendFailed('aborted', err, remote));
  }

  /** Frames waiting. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Whether a socket is attached and open. */
  get open(): boolean {
    return this.#ws !== undefined && this.#ws.readyState === 1;
  }

  /** Whether a frame of `bytes` bytes fits in the queue now. */
  hasRoom(bytes: number): boolean {
    return this.#queue.hasRoom(bytes);
  }

  /** Sends over this socket from now on (after a (re)connect). */
  attach(ws: WebSocket): void {
    this.#ws = ws;
    this.#waiting = false;
    this.#doFlush();
  }

  /** Forgets the socket (it closed); queued frames wait for the next `attach`. */
  detach(ws: WebSocket): void {
    if (this.#ws === ws) this.#ws = undefined;
  }

  /** Queues a frame; resolves once handed to `ws.send`. */
  send(frame: Uint8Array, signal?: AbortSignal): Promise<void> {
    const p = this.#queue.enqueue(frame, signal);
    if (this.#ws && !this.#scheduled && !this.#waiting) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
    return p;
  }

  /** Rejects every queued frame; returns how many. */
  failAll(err: TransportError): number {
    return this.#queue.failAll(err);
  }

  #doFlush(): void {
    this.#scheduled = false;
    const ws = this.#ws;
    if (!ws || this.#waiting || ws.readyState !== 1) return;
    const high = this.#ctx.highWaterBytes;
    const queue = this.#queue;
    // Cork the underlying socket for the whole flush: the frames go out in one writev instead of
    // one write per WS message (ws corks per message; cork calls nest).
    const sock = (ws as unknown as { _socket?: { cork?(): void; uncork?(): void } })._socket;
    const corked = queue.size > 1 && typeof sock?.cork === 'function' && typeof sock.uncork === 'function';
    if (corked) sock!.cork!();
    try {
      this.#sendQueued(ws, high);
    } finally {
      if (corked) sock!.uncork!();
    }
  }

  #sendQueued(ws: WebSocket, high: number): void {
    const queue = this.#queue;
    let n = 0;
    let bytes = 0;
    while (queue.size > 0) {
      const entry = queue.takeOne();
      if (!entry) break;
      n++;
      bytes += entry.data.byteLength;
      if (ws.bufferedAmount + entry.data.byteLength >= high) {
        this.#waiting = true;
        ws.send(entry.data, BINARY, this.#wake);
        WriteQueue.settleOne(entry);
        break;
      }
      ws.send(entry.data, BINARY);
      WriteQueue.settleOne(entry);
    }
    if (n > 0) this.#ctx.instruments.sent(n, bytes);
  }
}
