/**
 * A WebSocket client transport on the WHATWG `WebSocket` API: a browser's native WebSocket (no
 * `ws`, no `Buffer`, no `node:*` on this path), or any implementation of the same API (Node 22's
 * global, `ws`'s class) passed as `options.WebSocket`. It speaks to a `WebSocketTransport`
 * server (or the reference's): the same frames, and the same client authentication, with the
 * challenge taken in-band (see `ws-auth-proof.ts`).
 */
import { AbortError, encodeMessage, FrameTooLargeError, NotStartedError, QueueFullError, TransportError, ValidationError } from '@converge/core';
import type { Identity, Message } from '@converge/core';
import type { Startable } from '@converge/core';
import type { Logger, Metrics } from '@converge/core';
import { checkMaxFrameBytes, FRAME_HEADER_BYTES } from '@converge/network/internal';
import { NetInstruments, type NetTransportStats } from '@converge/network/internal';
import { FrameReceiver, ReceiverTransport, SingleFlight } from '@converge/network/internal';
import { DEFAULT_MAX_QUEUE_BYTES_PER_PEER, DEFAULT_MAX_QUEUE_PER_PEER, WriteQueue } from '@converge/network/internal';
import type { SendOptions, Transport } from '@converge/core';
import { DEFAULT_CONNECT_TIMEOUT_MS, type ReconnectOptions } from '@converge/network/internal';
import { wsFramePayload } from './ws-frame.js';
import { WsRedialer } from './ws-redial.js';
import { WS_AUTH_CLOSE_CODE, WS_AUTH_PROTOCOL, WS_PLAIN_PROTOCOL, authProofBytes, readChallengeMessage } from './ws-auth-proof.js';

/** Default `bufferedAmount` (bytes) above which the client stops sending until the socket drains: 4 MiB. */
export const DEFAULT_WS_CLIENT_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** While over the high-water mark, how often `bufferedAmount` is checked again (the WHATWG API has no drain event): 10 ms. */
export const WS_CLIENT_DRAIN_POLL_MS = 10;

/** An event the client reads: `data` of a message, `code`/`reason` of a close. */
export interface WebSocketEventLike {
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
}

/** The part of the WHATWG `WebSocket` API the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (ev: WebSocketEventLike) => void): void;
  removeEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (ev: WebSocketEventLike) => void): void;
}

/** A `WebSocket` constructor (`new WebSocket(url, protocols)`). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Options of `WebSocketClientTransport`. */
export interface WebSocketClientOptions {
  /** The server (`ws://…` or `wss://…`), or a function returning it, called at each dial. */
  url: string | (() => string);
  /** This client's identity: answers a server that requires authentication; its fingerprint is `agentId`. */
  identity?: Identity;
  /** The WebSocket implementation (default `globalThis.WebSocket`, a browser's native one). */
  WebSocket?: WebSocketConstructor;
  /** Largest frame body accepted and sent (default 10 MiB). */
  maxFrameBytes?: number;
  /** Time allowed for the opening handshake and, with authentication, for the challenge (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** Most frames waiting to be written (default 8,192). */
  maxQueue?: number;
  /** Most bytes waiting to be written (default 64 MiB). */
  maxQueueBytes?: number;
  /** `bufferedAmount` above which sending waits (default 4 MiB). */
  highWaterBytes?: number;
  /** Capacity of the receive queue (default 10,000 messages). */
  maxReceiveQueue?: number;
  /** Most bytes (frame bodies) in the receive queue (default 64 MiB). */
  maxReceiveQueueBytes?: number;
  /** Dial attempts and backoff (defaults: 5 attempts, 50 ms doubling to at most 2,000 ms, jittered). */
  reconnect?: ReconnectOptions;
  /** Logs rejections, connection events and send failures. */
  logger?: Logger;
  /** Metrics (see `NetInstruments`; label `transport="websocket"`). */
  metrics?: Metrics;
}

const OPEN = 1;
const CLOSED = 3;

function checkUrl(url: string): string {
  if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new ValidationError('url must start with ws:// or wss://');
  return url;
}

/**
 * Messages over a WHATWG WebSocket, client side: `start()` connects (bounded, jittered dial
 * attempts); every `send` goes to the server; after a loss, frames still queued (or the next
 * send) reconnect. Each converge message is one binary WS message: the 4-byte big-endian length
 * and the encoded message.
 *
 * Authentication: the client offers the subprotocols `WS_AUTH_PROTOCOL` and `WS_PLAIN_PROTOCOL`.
 * A server requiring a proof selects the first and sends a challenge as its first message; the client answers with its proof
 * (`identity` must be able to sign, else `start()` fails with `ERR_AUTH`). A refusal (close 1008)
 * fails queued sends with `ERR_AUTH` and is not redialled in a loop.
 *
 * Limits of the API, and what the client does about them: a browser buffers a whole message
 * before handing it out, so an oversize message (over `maxFrameBytes + 4`) is refused after
 * arrival (counted `oversize`, connection closed with 1009); inbound data cannot be paused, so
 * past the bounded receive queue messages are dropped, logged and counted
 * (`droppedReceiveQueueFull`); there is no drain event, so while `bufferedAmount` is over the
 * high-water mark sending resumes on a short poll.
 */
export class WebSocketClientTransport extends ReceiverTransport implements Transport, Startable {
  /** Largest frame body accepted. */
  readonly maxFrameBytes: number;
  /** This client's agent id (its identity's fingerprint), if it has one. */
  readonly agentId: string | undefined;
  readonly #o: WebSocketClientOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #instruments: NetInstruments;
  readonly #redial: WsRedialer<WebSocketLike>;
  readonly #connecting = new SingleFlight();
  readonly #high: number;
  #receiver: FrameReceiver | undefined;
  #queue: WriteQueue | undefined;
  #stop: AbortController | undefined;
  #ws: WebSocketLike | undefined;
  #live: WebSocketLike | undefined;
  #scheduled = false;
  #waiting: ReturnType<typeof setTimeout> | undefined;
  #remote: string;

  constructor(options: WebSocketClientOptions) {
    super('WebSocketClientTransport');
    this.#o = options;
    if (typeof options?.url === 'string') checkUrl(options.url);
    else if (typeof options?.url !== 'function') throw new ValidationError('url must be a ws:// or wss:// URL or a function returning one');
    const ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof ctor !== 'function') throw new ValidationError('no WebSocket implementation: this runtime has no globalThis.WebSocket; pass options.WebSocket');
    this.#WebSocket = ctor;
    this.maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes);
    this.#high = options.highWaterBytes ?? DEFAULT_WS_CLIENT_HIGH_WATER_BYTES;
    this.agentId = options.identity?.fingerprint;
    this.#instruments = new NetInstruments('websocket', options.logger, options.metrics);
    // A refused proof does not get better by dialling again.
    this.#redial = new WsRedialer(options.reconnect, this.#instruments, {
      remote: () => this.#remote,
      dialOnce: (stop) => this.#dialOnce(stop),
      waiting: () => this.#queue,
      final: (err) => TransportError.is(err) && err.code === 'ERR_AUTH',
    });
    this.#remote = typeof options.url === 'string' ? options.url : 'websocket-server';
  }

  /** The server URL (the function form is called). */
  get url(): string {
    const u = this.#o.url;
    return typeof u === 'function' ? checkUrl(u()) : u;
  }

  /** Counters (frames, bytes, connections, rejections, send errors, text frames). */
  get stats(): Readonly<NetTransportStats> {
    return this.#instruments.stats;
  }

  /** The receive queue while started (for `ReceiverTransport`'s `receive`, `tryReceive` and iteration). */
  protected get currentReceiver(): FrameReceiver | undefined {
    return this.#receiver;
  }

  /** Whether a connection is open now (and, with authentication, the proof sent). */
  get connected(): boolean {
    return this.#live !== undefined && this.#live.readyState === OPEN;
  }

  /** The subprotocol of the open connection: `WS_AUTH_PROTOCOL` when the server asked for a proof, else `WS_PLAIN_PROTOCOL` or `''`. */
  get protocol(): string | undefined {
    return this.#live?.protocol;
  }

  /** Connects (rejects with `TransportError` `ERR_CONNECT`, or `ERR_AUTH`, when it cannot). Idempotent. */
  protected async startOnce(): Promise<void> {
    const o = this.#o;
    this.#stop = new AbortController();
    this.#receiver = new FrameReceiver({
      maxSize: o.maxReceiveQueue,
      maxBytes: o.maxReceiveQueueBytes,
      maxFrameBytes: this.maxFrameBytes,
      instruments: this.#instruments,
    });
    this.#queue = new WriteQueue(o.maxQueue ?? DEFAULT_MAX_QUEUE_PER_PEER, o.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES_PER_PEER, (err) =>
      this.#instruments.sendFailed('aborted', err, this.#remote),
    );
    try {
      await this.#connect();
    } catch (err) {
      this.#teardown();
      throw err;
    }
  }

  /** Closes the connection; queued sends reject (`ERR_STOPPED`); pending receives resolve `null`. Idempotent. */
  async stop(): Promise<void> {
    if (this.pendingStart) await this.pendingStart.catch(() => undefined);
    if (!this.#receiver) return;
    this.#teardown();
  }

  #teardown(): void {
    const receiver = this.#receiver;
    this.#receiver = undefined;
    this.#stop?.abort();
    receiver?.close();
    clearTimeout(this.#waiting);
    this.#waiting = undefined;
    this.#queue?.failAll(new TransportError('transport stopped', { code: 'ERR_STOPPED' }));
    this.#queue = undefined;
    const ws = this.#ws;
    this.#ws = undefined;
    this.#live = undefined;
    if (ws && ws.readyState !== CLOSED) ws.close(1000, 'stopped');
  }

  #connect(): Promise<void> {
    return this.#connecting.run(async () => this.#use(await this.#redial.dial(this.#stop!.signal)));
  }

  #dialOnce(stop: AbortSignal): Promise<WebSocketLike> {
    const url = this.url;
    this.#remote = url;
    const ws = new this.#WebSocket(url, [WS_AUTH_PROTOCOL, WS_PLAIN_PROTOCOL]);
    ws.binaryType = 'arraybuffer';
    this.#ws = ws; // tracked at once, so stop() can close a handshake in progress
    // One message listener for the socket's life: the challenge first (when the server asked
    // for a proof), then frames; attached before anything can arrive.
    const gate: HandshakeGate = { ready: false, onChallenge: undefined };
    ws.addEventListener('message', (ev) => {
      if (gate.ready) this.#read(ws, ev.data, url);
      else gate.onChallenge?.(ev.data);
    });
    return this.#handshake(ws, url, stop, gate);
  }

  // Resolves once `ws` is open (and, when the server asked for one, the proof is sent).
  #handshake(ws: WebSocketLike, url: string, stop: AbortSignal, gate: HandshakeGate): Promise<WebSocketLike> {
    const identity = this.#o.identity;
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        stop.removeEventListener('abort', onAbort);
        ws.removeEventListener('open', onOpen);
        gate.onChallenge = undefined;
        ws.removeEventListener('error', onError);
        ws.removeEventListener('close', onClose);
        if (err) {
          if (ws.readyState !== CLOSED) ws.close();
          if (this.#ws === ws) this.#ws = undefined;
          reject(err);
        } else {
          gate.ready = true;
          resolve(ws);
        }
      };
      const onOpen = (): void => {
        // WS_PLAIN_PROTOCOL or none selected: the server does not ask for a proof.
        if (ws.protocol !== WS_AUTH_PROTOCOL) return done();
        if (!identity?.canSign) {
          done(new TransportError(`${url} requires client authentication: give an identity with a secret key`, { code: 'ERR_AUTH' }));
        }
      };
      gate.onChallenge = (data: unknown): void => {
        const challenge = data instanceof ArrayBuffer ? readChallengeMessage(new Uint8Array(data)) : undefined;
        if (!challenge) return done(new TransportError(`${url} selected ${WS_AUTH_PROTOCOL} but sent no challenge first`, { code: 'ERR_AUTH' }));
        ws.send(authProofBytes(identity!, challenge, url));
        done();
      };
      const onError = (): void => done(new TransportError(`cannot connect to ${url}`, { code: 'ERR_CONNECT' }));
      const onClose = (ev: WebSocketEventLike): void => done(closedWhileConnecting(url, ev));
      const onAbort = (): void => done(new AbortError('connect aborted'));
      const timer = setTimeout(
        () => done(new TransportError(`connecting to ${url} timed out`, { code: 'ERR_CONNECT' })),
        this.#o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      );
      ws.addEventListener('open', onOpen);
      ws.addEventListener('error', onError);
      ws.addEventListener('close', onClose);
      stop.addEventListener('abort', onAbort, { once: true });
    });
  }

  #use(ws: WebSocketLike): void {
    const remote = this.#remote;
    const instruments = this.#instruments;
    this.#ws = ws;
    this.#live = ws;
    instruments.opened('outbound', remote);
    // Errors are followed by a close event, which does the work; count them here.
    ws.addEventListener('error', () => instruments.socketError('outbound', remote, new TransportError(`websocket error on ${remote}`)));
    ws.addEventListener('close', (ev) => {
      instruments.closed('outbound', remote);
      if (this.#live === ws) this.#live = undefined;
      if (this.#ws === ws) this.#ws = undefined;
      const queue = this.#queue;
      if (!this.#receiver || !queue) return;
      if (ev.code === WS_AUTH_CLOSE_CODE) {
        // Refused by the server: do not redial in a loop; queued frames fail, the next send redials.
        const err = new TransportError(`${remote} refused this client (${ev.reason ?? ''})`, { code: 'ERR_AUTH' });
        instruments.connectFailed(remote, 1, err);
        const n = queue.failAll(err);
        if (n > 0) instruments.sendFailed('connect', err, remote, n);
        return;
      }
      if (queue.size > 0) void this.#connect().catch(() => undefined);
    });
    this.#flush();
  }

  #read(ws: WebSocketLike, data: unknown, remote: string): void {
    const instruments = this.#instruments;
    const receiver = this.#receiver;
    if (!receiver) return;
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (typeof data === 'string') {
      // Text messages are taken as their UTF-8 bytes, as the reference does.
      instruments.text();
      bytes = new TextEncoder().encode(data);
    } else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else {
      instruments.rejected('malformed', { remote, type: typeof data });
      return;
    }
    instruments.stats.bytesReceived += bytes.byteLength;
    if (bytes.byteLength > this.maxFrameBytes + FRAME_HEADER_BYTES) {
      instruments.rejected('oversize', { remote, size: bytes.byteLength - FRAME_HEADER_BYTES, limit: this.maxFrameBytes });
      ws.close(1009, 'message too big');
      return;
    }
    const payload = wsFramePayload(bytes, this.maxFrameBytes, instruments, remote);
    if (payload && receiver.deliver(payload, remote)) instruments.received(1);
  }

  /**
   * Sends a message to the server. Resolves once handed to the socket. Rejects with
   * `NotStartedError`, `FrameTooLargeError`, `TransportError` (`ERR_CONNECT`, `ERR_AUTH`,
   * `ERR_STOPPED`), `QueueFullError` or `AbortError`.
   */
  send(message: Message, options?: SendOptions): Promise<void> {
    const queue = this.#queue;
    if (!queue || !this.#receiver) return Promise.reject(new NotStartedError('WebSocketClientTransport is not started'));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('send aborted', { cause: signal.reason }));
    let frame: Uint8Array;
    try {
      const body = encodeMessage(message);
      if (body.byteLength > this.maxFrameBytes) throw new FrameTooLargeError(body.byteLength, this.maxFrameBytes);
      frame = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
      new DataView(frame.buffer).setUint32(0, body.byteLength);
      frame.set(body, FRAME_HEADER_BYTES);
      if (!queue.hasRoom(frame.byteLength)) throw new QueueFullError(`write queue full (${queue.size} frames)`);
    } catch (err) {
      this.#instruments.sendFailed(FrameTooLargeError.is(err) ? 'oversize' : QueueFullError.is(err) ? 'queue_full' : 'socket', err);
      return Promise.reject(err);
    }
    const p = queue.enqueue(frame, signal);
    if (this.connected) {
      if (!this.#scheduled && this.#waiting === undefined) {
        this.#scheduled = true;
        queueMicrotask(() => this.#flush());
      }
    } else void this.#connect().catch(() => undefined); // failures reject the queued sends
    return p;
  }

  #flush(): void {
    this.#scheduled = false;
    const ws = this.#live;
    const queue = this.#queue;
    if (!ws || !queue || this.#waiting !== undefined || ws.readyState !== OPEN) return;
    let n = 0;
    let bytes = 0;
    while (queue.size > 0) {
      if (ws.bufferedAmount >= this.#high) {
        // Over the high-water mark: look again shortly (the API has no drain event).
        this.#waiting = setTimeout(() => {
          this.#waiting = undefined;
          this.#flush();
        }, WS_CLIENT_DRAIN_POLL_MS);
        break;
      }
      const entry = queue.takeOne();
      if (!entry) break;
      try {
        ws.send(entry.data);
      } catch (err) {
        WriteQueue.settleOne(entry, new TransportError(`send to ${this.#remote} failed`, { code: 'ERR_CONNECTION_CLOSED', cause: err }));
        this.#instruments.sendFailed('socket', err, this.#remote);
        continue;
      }
      n++;
      bytes += entry.data.byteLength;
      WriteQueue.settleOne(entry);
    }
    if (n > 0) this.#instruments.sent(n, bytes);
  }
}

/** A dial's message routing: the challenge handler until the handshake is done, then frames. */
interface HandshakeGate {
  ready: boolean;
  onChallenge: ((data: unknown) => void) | undefined;
}

// The error of a socket closed during the handshake (a refused proof: `ERR_AUTH`).
function closedWhileConnecting(url: string, ev: WebSocketEventLike): TransportError {
  const refused = ev.code === WS_AUTH_CLOSE_CODE;
  return new TransportError(`${url} closed the connection while connecting (${ev.code} ${ev.reason ?? ''})`, { code: refused ? 'ERR_AUTH' : 'ERR_CONNECT' });
}
