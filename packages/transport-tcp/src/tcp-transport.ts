import net from 'node:net';
import tls from 'node:tls';
import { AbortError, createTopic, encodeMessage, FrameTooLargeError, NotStartedError, QueueFullError, TransportError, ValidationError } from '@converge/core';
import type { Identity, Message, Topic } from '@converge/core';
import type { Startable } from '@converge/core';
import { positiveIntOption, type Logger, type Metrics } from '@converge/core';
import { checkMaxFrameBytes, FRAME_HEADER_BYTES } from '@converge/network/internal';
import { NetInstruments, type NetTransportStats } from '@converge/network/internal';
import { FrameReceiver, ReceiverTransport } from '@converge/network/internal';
import { InboundBudget, type InboundBudgetOptions } from '@converge/network/internal';
import { DEFAULT_MAX_QUEUE_BYTES_PER_PEER, DEFAULT_MAX_QUEUE_PER_PEER } from '@converge/network/internal';
import type { SendOptions, Transport } from '@converge/core';
import { DEFAULT_CONNECT_TIMEOUT_MS, resolveBackoff, type Backoff, type ReconnectOptions } from '@converge/network/internal';
import { attachReader, remoteOf, type TcpTlsOptions } from './tcp-connection.js';
import { TcpPeer, type PeerContext } from './tcp-peer.js';
import { IdleReaper } from '@converge/network/internal';
import { TCP_TOPIC_NAMESPACE, tcpAddressOf, type TcpAddress } from '@converge/network';

/** Default most inbound connections a `TcpTransport` accepts at once: 1,024. */
export const DEFAULT_MAX_INBOUND_CONNECTIONS = 1_024;

/** Default most peer addresses with an outbound connection (or one being dialed): 1,024. */
export const DEFAULT_MAX_PEERS = 1_024;

/**
 * Options of `TcpTransport`. Every limit is bounded by default. The inbound budget options
 * (`maxInboundBytes`, `maxConnectionBytes`, `frameProgressTimeoutMs`, `frameProgressMinBytes`,
 * `maxFrameTimeMs`) apply to every connection, inbound and outbound (see `InboundBudget`).
 */
export interface TcpTransportOptions extends InboundBudgetOptions {
  /** Address to listen on (default `127.0.0.1`). */
  host?: string;
  /** Port to listen on; `0` (default) picks a free one, read back as `.port` after `start()`. */
  port?: number;
  /** Whether to accept connections (default `true`); a send-only transport opens no port. */
  listen?: boolean;
  /** TLS on the listening socket and on dialed connections (see `TcpTlsOptions`). */
  tls?: TcpTlsOptions;
  /** Largest frame body, on send and on receive (default 10 MiB = 10,485,760). */
  maxFrameBytes?: number;
  /** Time allowed for one dial, TLS handshake included (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** Most frames waiting to be written to one peer; beyond, `send` rejects with `QueueFullError` (default 8,192). */
  maxQueuePerPeer?: number;
  /** Most bytes waiting to be written to one peer (default 64 MiB). */
  maxQueueBytesPerPeer?: number;
  /** Capacity of the receive queue shared by all connections (default 10,000 messages). */
  maxReceiveQueue?: number;
  /** Most bytes (frame bodies) in the receive queue (default 64 MiB). */
  maxReceiveQueueBytes?: number;
  /** Most simultaneous inbound connections; more are closed by the server (default 1,024). */
  maxInboundConnections?: number;
  /** Inbound connections receiving nothing for this long are closed and counted (default 120,000 ms; 0 disables). */
  idleTimeoutMs?: number;
  /** Most peer addresses connected or connecting at once (default 1,024). */
  maxPeers?: number;
  /** Dial attempts and backoff (defaults: 5 attempts, 50 ms doubling to at most 2,000 ms, jittered). */
  reconnect?: ReconnectOptions;
  /** Initial address book: recipient fingerprint → address. */
  peers?: Record<string, TcpAddress>;
  /** Logs rejections, connection events and send failures. */
  logger?: Logger;
  /** Metrics (see `NetInstruments` for names and labels). */
  metrics?: Metrics;
  /** This node's identity: its fingerprint is `agentId`. */
  identity?: Identity;
  /** This node's agent id, when no `identity` is given. */
  agentId?: string;
}

/** An address-book entry: the address and its pool key (`host:port`), computed once. */
interface BookEntry extends TcpAddress {
  readonly key: string;
}

/**
 * Messages over TCP (optionally TLS), framed as the reference frames them: a 4-byte big-endian
 * length, then the encoded message; no handshake, many frames per pooled connection.
 *
 * - Listens on `host:port` (unless `listen: false`); frames from every connection, inbound
 *   and outbound, go into one bounded receive queue (`receive`, async iteration).
 * - Routing of `send`: the address book (`addPeer(recipient fingerprint, address)`) when the
 *   message has a known recipient, else the message's `transport.tcp` topic (attributes
 *   `host`, `port`). A message with neither is refused with `TransportError` `ERR_NO_ROUTE`
 *   (the reference drops it silently; this port never does).
 * - One pooled connection per peer address, dialed on first use, re-dialed after a loss with
 *   jittered exponential backoff; sends wait (boundedly) while it connects or drains.
 * - Limits: frames over `maxFrameBytes` are refused on send (`FrameTooLargeError`, nothing
 *   written) and on receive (counted, logged, connection closed, nothing allocated).
 * - `stop()` destroys every socket, inbound and outbound, rejects queued sends and resolves
 *   pending receives with `null`.
 */
export class TcpTransport extends ReceiverTransport implements Transport, Startable {
  /** Host this transport listens on. */
  readonly host: string;
  /** Largest frame body accepted. */
  readonly maxFrameBytes: number;
  /** This node's agent id (identity fingerprint), if one was given. */
  readonly agentId: string | undefined;
  readonly #instruments: NetInstruments;
  readonly #options: TcpTransportOptions;
  readonly #requestedPort: number;
  readonly #backoff: Backoff;
  readonly #book = new Map<string, BookEntry>();
  readonly #pool = new Map<string, TcpPeer>();
  readonly #sockets = new Set<net.Socket>();
  readonly #maxPeers: number;
  #port: number | undefined;
  #server: net.Server | undefined;
  #receiver: FrameReceiver | undefined;
  #stop: AbortController | undefined;
  #peerCtx: PeerContext | undefined;
  readonly #idle: IdleReaper;
  #budget: InboundBudget | undefined;

  constructor(options: TcpTransportOptions = {}) {
    super('TcpTransport');
    this.#options = options;
    this.host = options.host ?? '127.0.0.1';
    this.#requestedPort = options.port ?? 0;
    if (!Number.isInteger(this.#requestedPort) || this.#requestedPort < 0 || this.#requestedPort > 65535) {
      throw new ValidationError('port must be an integer between 0 and 65535');
    }
    this.maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes);
    positiveIntOption(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs', 'validation');
    positiveIntOption(options.maxQueuePerPeer, DEFAULT_MAX_QUEUE_PER_PEER, 'maxQueuePerPeer', 'validation');
    positiveIntOption(options.maxQueueBytesPerPeer, DEFAULT_MAX_QUEUE_BYTES_PER_PEER, 'maxQueueBytesPerPeer', 'validation');
    positiveIntOption(options.maxInboundConnections, DEFAULT_MAX_INBOUND_CONNECTIONS, 'maxInboundConnections', 'validation');
    this.#maxPeers = positiveIntOption(options.maxPeers, DEFAULT_MAX_PEERS, 'maxPeers', 'validation');
    this.#backoff = resolveBackoff(options.reconnect);
    this.agentId = options.identity?.fingerprint ?? options.agentId;
    this.#instruments = new NetInstruments('tcp', options.logger, options.metrics);
    this.#idle = new IdleReaper('tcp', options.idleTimeoutMs, options.logger, options.metrics);
    new InboundBudget(options, this.maxFrameBytes).close(); // validates the budget options now
    for (const [fp, addr] of Object.entries(options.peers ?? {})) this.addPeer(fp, addr);
  }

  /** Counters (frames, bytes, connections, rejections, send errors). */
  get stats(): Readonly<NetTransportStats> {
    return this.#instruments.stats;
  }

  /** Inbound connections closed after `idleTimeoutMs` without traffic. */
  get idleClosed(): number {
    return this.#idle.closed;
  }

  /** The port listened on (the one picked when `port` was 0); throws `NotStartedError` before `start()`. */
  get port(): number {
    if (this.#port === undefined) throw new NotStartedError('TcpTransport is not listening (call start())');
    return this.#port;
  }

  /** Where peers reach this transport: `{ host, port }` (after `start()`). */
  get address(): TcpAddress {
    return { host: this.host, port: this.port };
  }

  /** The receive queue while started (for `ReceiverTransport`'s `receive`, `tryReceive` and iteration). */
  protected get currentReceiver(): FrameReceiver | undefined {
    return this.#receiver;
  }

  /** Open sockets (inbound and outbound, connected or handshaking). */
  get openConnections(): number {
    return this.#sockets.size;
  }

  /** Frames waiting in the per-peer write queues (connecting, or waiting for `drain`). */
  get pendingWrites(): number {
    let n = 0;
    for (const p of this.#pool.values()) n += p.queued;
    return n;
  }

  /** Bytes held now in unfinished inbound frames, all connections together (see `maxInboundBytes`). */
  get inboundBytes(): number {
    return this.#budget?.used ?? 0;
  }

  /** A `transport.tcp` topic naming this transport's address, for messages that should be routed here. */
  addressTopic(): Topic {
    return createTopic(TCP_TOPIC_NAMESPACE, { host: this.host, port: this.port });
  }

  /** Adds or replaces the address of a recipient (by fingerprint). */
  addPeer(fingerprint: string, address: TcpAddress): void {
    if (typeof fingerprint !== 'string' || fingerprint === '') throw new ValidationError('fingerprint must be a non-empty string');
    if (typeof address?.host !== 'string' || !Number.isInteger(address.port) || address.port < 1 || address.port > 65535) {
      throw new ValidationError('address must be { host: string, port: 1..65535 }');
    }
    this.#book.set(fingerprint, { host: address.host, port: address.port, key: `${address.host}:${address.port}` });
  }

  /** Removes a recipient from the address book. Returns whether it was there. */
  removePeer(fingerprint: string): boolean {
    return this.#book.delete(fingerprint);
  }

  /** The address of a recipient, if known. */
  peerAddress(fingerprint: string): TcpAddress | undefined {
    const e = this.#book.get(fingerprint);
    return e ? { host: e.host, port: e.port } : undefined;
  }

  /** Listens (unless `listen: false`). Rejects with `TransportError` `ERR_LISTEN` when the port cannot be bound. Idempotent. */
  protected async startOnce(): Promise<void> {
    const o = this.#options;
    const stop = new AbortController();
    const receiver = new FrameReceiver({
      maxSize: o.maxReceiveQueue,
      maxBytes: o.maxReceiveQueueBytes,
      maxFrameBytes: this.maxFrameBytes,
      instruments: this.#instruments,
    });
    const budget = new InboundBudget(o, this.maxFrameBytes);
    budget.pausedWhen(() => receiver.paused);
    this.#budget = budget;
    const ctx = this.#peerContext(receiver, budget, stop.signal);
    if (o.listen !== false) await this.#listen(ctx);
    this.#stop = stop;
    this.#peerCtx = ctx;
    this.#receiver = receiver;
  }

  #peerContext(receiver: FrameReceiver, budget: InboundBudget, stopSignal: AbortSignal): PeerContext {
    const o = this.#options;
    return {
      maxFrameBytes: this.maxFrameBytes,
      instruments: this.#instruments,
      receiver,
      budget,
      tls: o.tls,
      connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      backoff: this.#backoff,
      maxQueue: o.maxQueuePerPeer ?? DEFAULT_MAX_QUEUE_PER_PEER,
      maxQueueBytes: o.maxQueueBytesPerPeer ?? DEFAULT_MAX_QUEUE_BYTES_PER_PEER,
      stopSignal,
      track: (s) => this.#track(s),
      onIdle: (peer) => {
        if (this.#pool.get(peer.key) === peer && peer.idle) this.#pool.delete(peer.key);
      },
    };
  }

  // Creates the server (TCP or TLS), binds it and records the port.
  async #listen(ctx: PeerContext): Promise<void> {
    const o = this.#options;
    const server = o.tls ? tls.createServer(o.tls) : net.createServer();
    server.maxConnections = o.maxInboundConnections ?? DEFAULT_MAX_INBOUND_CONNECTIONS;
    // Track raw sockets from the first byte (TLS: before the handshake) so stop() can destroy them.
    server.on('connection', (socket: net.Socket) => {
      this.#track(socket);
      this.#idle.arm(socket);
      if (!o.tls) this.#onInbound(socket, ctx);
    });
    if (o.tls) {
      server.on('secureConnection', (socket: tls.TLSSocket) => {
        this.#track(socket);
        this.#onInbound(socket, ctx);
      });
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
        this.#instruments.connectFailed(remoteOf(socket), 1, err);
        socket.destroy();
      });
    }
    server.on('error', (err) => this.#instruments.debug({ err }, 'server error'));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new TransportError(`cannot listen on ${this.host}:${this.#requestedPort}: ${err.message}`, { code: 'ERR_LISTEN', cause: err }));
      };
      server.once('error', onError);
      server.listen({ host: this.host, port: this.#requestedPort }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.#server = server;
    this.#port = (server.address() as net.AddressInfo).port;
  }

  /** Closes the server and every connection; queued sends reject (`ERR_STOPPED`); pending receives resolve `null`. Idempotent. */
  async stop(): Promise<void> {
    if (this.pendingStart) await this.pendingStart.catch(() => undefined);
    const receiver = this.#receiver;
    if (!receiver) return;
    this.#receiver = undefined;
    this.#peerCtx = undefined;
    this.#stop?.abort();
    receiver.close();
    const stopped = new TransportError('transport stopped', { code: 'ERR_STOPPED' });
    for (const peer of this.#pool.values()) peer.close(stopped);
    this.#pool.clear();
    const server = this.#server;
    this.#server = undefined;
    const closing = [...this.#sockets].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.closed) resolve();
          else s.once('close', () => resolve());
          s.destroy();
        }),
    );
    if (server) closing.push(new Promise<void>((resolve) => server.close(() => resolve())));
    await Promise.all(closing);
    this.#sockets.clear();
    this.#budget?.close();
    this.#budget = undefined;
    this.#port = undefined;
  }

  /**
   * Sends a message to the peer its recipient (address book) or `transport.tcp` topic names.
   * Resolves once the frame is handed to the socket. Rejects with `NotStartedError`,
   * `FrameTooLargeError` (nothing written), `TransportError` (`ERR_NO_ROUTE`, `ERR_CONNECT`
   * after the dial attempts, `ERR_STOPPED`, `ERR_TOO_MANY_PEERS`), `QueueFullError` (the peer's
   * write queue is full) or `AbortError`.
   */
  send(message: Message, options?: SendOptions): Promise<void> {
    const ctx = this.#peerCtx;
    if (!ctx) return Promise.reject(new NotStartedError('TcpTransport is not started'));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('send aborted', { cause: signal.reason }));
    let body: Uint8Array;
    let peer: TcpPeer;
    try {
      // The body is queued as encoded; the peer writes its length prefix into the coalesced buffer.
      body = encodeMessage(message);
      if (body.byteLength > this.maxFrameBytes) throw new FrameTooLargeError(body.byteLength, this.maxFrameBytes);
      const addr = this.#route(message);
      const key = addr.key ?? `${addr.host}:${addr.port}`;
      let p = this.#pool.get(key);
      if (!p) {
        if (this.#pool.size >= this.#maxPeers) {
          throw new TransportError(`too many peers (${this.#maxPeers}) connected or connecting`, { code: 'ERR_TOO_MANY_PEERS' });
        }
        p = new TcpPeer(addr.host, addr.port, ctx);
        this.#pool.set(key, p);
      }
      peer = p;
    } catch (err) {
      const reason = FrameTooLargeError.is(err) ? 'oversize' : (err as TransportError).code === 'ERR_NO_ROUTE' ? 'no_route' : 'socket';
      this.#instruments.sendFailed(reason, err);
      return Promise.reject(err);
    }
    if (!peer.hasRoom(FRAME_HEADER_BYTES + body.byteLength)) {
      const err = new QueueFullError(`write queue to ${peer.key} is full (${peer.queued} frames)`);
      this.#instruments.sendFailed('queue_full', err, peer.key);
      return Promise.reject(err);
    }
    return peer.send(body, signal);
  }

  #route(message: Message): TcpAddress & { key?: string } {
    if (message.recipient !== null) {
      const a = this.#book.get(message.recipient);
      if (a) return a;
    }
    const t = tcpAddressOf(message);
    if (t) return t;
    throw new TransportError(
      message.recipient === null
        ? 'no route: the message has no recipient in the address book and no transport.tcp topic'
        : `no route to ${message.recipient}: not in the address book and no transport.tcp topic`,
      { code: 'ERR_NO_ROUTE' },
    );
  }

  #track(socket: net.Socket): void {
    if (this.#sockets.has(socket)) return;
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    if (!this.#receiver && !this.pendingStart) socket.destroy();
  }

  #onInbound(socket: net.Socket, ctx: PeerContext): void {
    socket.setNoDelay(true);
    attachReader(socket, ctx, 'inbound', remoteOf(socket), () => undefined);
  }
}
