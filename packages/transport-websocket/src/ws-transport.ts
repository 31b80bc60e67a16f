import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { IncomingMessage } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { AbortError, FrameTooLargeError, NotStartedError, QueueFullError, TransportError, ValidationError, encodeMessage, type Message } from '@converge/core';
import type { Startable } from '@converge/core';
import { checkMaxFrameBytes, encodeFrame, FRAME_HEADER_BYTES } from '@converge/network/internal';
import { NetInstruments, type NetTransportStats } from '@converge/network/internal';
import { FrameReceiver, ReceiverTransport, SingleFlight } from '@converge/network/internal';
import { DEFAULT_WS_PRE_AUTH_MAX_BYTES, InboundBudget } from '@converge/network/internal';
import { IdleReaper } from '@converge/network/internal';
import { meterWsConnection } from './ws-meter.js';
import { DEFAULT_MAX_QUEUE_BYTES_PER_PEER, DEFAULT_MAX_QUEUE_PER_PEER } from '@converge/network/internal';
import type { SendOptions, Transport } from '@converge/core';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '@converge/network/internal';
import { WsRedialer } from './ws-redial.js';
import { DEFAULT_WS_HIGH_WATER_BYTES, WsLink, attachWsReader, guardWsErrors, type LinkContext } from './ws-link.js';
import { WS_AUTH_CLOSE_CODE, WsServerAuth, encodeAuthProof, readChallenge, type WsAuthStats } from './ws-auth.js';
import { AGENT_HEADER, DEFAULT_MAX_WS_CLIENTS, type WebSocketTransportOptions } from './ws-options.js';

export { AGENT_HEADER, DEFAULT_MAX_WS_CLIENTS, type WebSocketTransportOptions } from './ws-options.js';

function checkUrl(url: string): string {
  if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new ValidationError('url must start with ws:// or wss://');
  return url;
}

interface ServerClient {
  ws: WebSocket;
  link: WsLink;
  remote: string;
}

/**
 * Messages over WebSocket (`ws`): one binary WS message per converge message, whose data is
 * the 4-byte big-endian length + the encoded message (as the reference's WebSocket transport).
 *
 * - Client (`{ url }`, as the reference): `start()` connects (with the bounded, jittered
 *   dial attempts); every `send` goes to the server; after a loss the next send (or frames
 *   still queued) reconnects.
 * - Server (`{ host, port }`): accepts clients. `send` goes to the client whose agent id is
 *   the message's recipient: learned from the client's `x-converge-agent` header and from the
 *   `sender` of messages it sent (neither is authenticated: use mutual TLS, and
 *   `receiveVerified` on the far side, where that matters). With `requireAuth` (default when a
 *   `registry` is given), a client is routed to only under the id whose key it proved, and
 *   only after it did (see `ws-auth.ts`). A message without a recipient goes to every
 *   connected (authenticated) client. No matching client: `TransportError` `ERR_NO_ROUTE`.
 * - The same guarantees as `TcpTransport`: typed errors, bounded queues, backpressure,
 *   frame limits on send and receive, everything closed on `stop()`.
 */
export class WebSocketTransport extends ReceiverTransport implements Transport, Startable {
  /** `'client'` with `url`, `'server'` otherwise. */
  readonly mode: 'client' | 'server';
  readonly #url: string | (() => string) | undefined;
  /** Server: the host listened on. */
  readonly host: string;
  /** Largest frame body accepted. */
  readonly maxFrameBytes: number;
  /** This node's agent id, if given. */
  readonly agentId: string | undefined;
  readonly #o: WebSocketTransportOptions;
  readonly #instruments: NetInstruments;
  readonly #redial: WsRedialer<WebSocket>;
  readonly #connecting = new SingleFlight();
  #receiver: FrameReceiver | undefined;
  #ctx: LinkContext | undefined;
  #stop: AbortController | undefined;
  #port: number | undefined;
  // Server state.
  #http: http.Server | undefined;
  #wss: WebSocketServer | undefined;
  readonly #rawSockets = new Set<net.Socket>();
  readonly #clients = new Set<ServerClient>();
  readonly #byAgent = new Map<string, ServerClient>();
  // Client state.
  #link: WsLink | undefined;
  #ws: WebSocket | undefined;
  #remote: string;
  #auth: WsServerAuth | undefined;
  readonly #idle: IdleReaper | undefined;
  #budget: InboundBudget | undefined;
  readonly #preAuthMaxBytes: number;

  constructor(options: WebSocketTransportOptions = {}) {
    super('WebSocketTransport');
    this.#o = options;
    this.mode = options.url !== undefined ? 'client' : 'server';
    if (typeof options.url === 'string') checkUrl(options.url);
    this.#url = options.url;
    this.#remote = typeof options.url === 'string' ? options.url : 'websocket-server';
    this.host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValidationError('port must be an integer between 0 and 65535');
    this.maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes);
    this.agentId = options.identity?.fingerprint ?? options.agentId;
    this.#instruments = new NetInstruments('websocket', options.logger, options.metrics);
    this.#redial = new WsRedialer(options.reconnect, this.#instruments, {
      remote: () => this.#remote,
      dialOnce: (stop) => this.#dialOnce(stop),
      waiting: () => this.#link,
    });
    new InboundBudget(options, this.maxFrameBytes).close(); // validates the budget options now
    this.#preAuthMaxBytes = options.preAuthMaxBytes ?? DEFAULT_WS_PRE_AUTH_MAX_BYTES;
    if (!Number.isSafeInteger(this.#preAuthMaxBytes) || this.#preAuthMaxBytes < 110) {
      throw new ValidationError('preAuthMaxBytes must be an integer >= 110 (the proof)');
    }
    if (this.mode === 'server') this.#idle = new IdleReaper('websocket', options.idleTimeoutMs, options.logger, options.metrics);
    if (this.mode === 'server' && (options.requireAuth ?? options.registry !== undefined)) {
      this.#auth = new WsServerAuth({ registry: options.registry, timeoutMs: options.authTimeoutMs, logger: options.logger, metrics: options.metrics });
    }
  }

  /** Server: whether clients must prove their key (`requireAuth`). */
  get requireAuth(): boolean {
    return this.#auth !== undefined;
  }

  /** Server with `requireAuth`: clients authenticated and refused (by reason); `undefined` otherwise. */
  get authStats(): Readonly<WsAuthStats> | undefined {
    return this.#auth?.stats;
  }

  /** Client: the server URL (the function form is called). */
  get url(): string | undefined {
    const u = this.#url;
    return typeof u === 'function' ? checkUrl(u()) : u;
  }

  /** Counters (frames, bytes, connections, rejections, send errors, text frames). */
  get stats(): Readonly<NetTransportStats> {
    return this.#instruments.stats;
  }

  /** Server: the port listened on; throws `NotStartedError` before `start()` or in client mode. */
  get port(): number {
    if (this.#port === undefined) throw new NotStartedError('WebSocketTransport is not listening');
    return this.#port;
  }

  /** Server: `ws://host:port` of this server (after `start()`; `wss` with TLS). */
  get listenUrl(): string {
    return `${this.#o.tls ? 'wss' : 'ws'}://${this.host}:${this.port}`;
  }

  /** The receive queue while started (for `ReceiverTransport`'s `receive`, `tryReceive` and iteration). */
  protected get currentReceiver(): FrameReceiver | undefined {
    return this.#receiver;
  }

  /** Open connections (server: clients plus sockets not yet upgraded; client: 0 or 1). */
  get openConnections(): number {
    return this.mode === 'server' ? this.#rawSockets.size : this.#ws && this.#ws.readyState !== WebSocket.CLOSED ? 1 : 0;
  }

  /** Server: clients closed after `idleTimeoutMs` without traffic. */
  get idleClosed(): number {
    return this.#idle?.closed ?? 0;
  }

  /** Server: bytes held now in clients' unfinished messages, all together (see `maxInboundBytes`). */
  get inboundBytes(): number {
    return this.#budget?.used ?? 0;
  }

  /** Server: listens. Client: connects (rejects with `TransportError` `ERR_CONNECT` when every attempt fails). Idempotent. */
  protected async startOnce(): Promise<void> {
    const o = this.#o;
    this.#stop = new AbortController();
    const receiver = new FrameReceiver({
      maxSize: o.maxReceiveQueue,
      maxBytes: o.maxReceiveQueueBytes,
      maxFrameBytes: this.maxFrameBytes,
      instruments: this.#instruments,
    });
    if (this.mode === 'server') {
      this.#budget = new InboundBudget(o, this.maxFrameBytes);
      this.#budget.pausedWhen(() => receiver.paused);
    }
    const ctx: LinkContext = {
      maxFrameBytes: this.maxFrameBytes,
      instruments: this.#instruments,
      receiver,
      maxQueue: o.maxQueuePerPeer ?? DEFAULT_MAX_QUEUE_PER_PEER,
      maxQueueBytes: o.maxQueueBytesPerPeer ?? DEFAULT_MAX_QUEUE_BYTES_PER_PEER,
      highWaterBytes: o.highWaterBytes ?? DEFAULT_WS_HIGH_WATER_BYTES,
    };
    this.#receiver = receiver;
    this.#ctx = ctx;
    try {
      if (this.mode === 'server') await this.#listen(ctx);
      else {
        this.#link = new WsLink(ctx, this.#remote);
        await this.#connect();
      }
    } catch (err) {
      await this.#teardown();
      throw err;
    }
  }

  /** Closes every connection (and the server); queued sends reject (`ERR_STOPPED`); pending receives resolve `null`. Idempotent. */
  async stop(): Promise<void> {
    if (this.pendingStart) await this.pendingStart.catch(() => undefined);
    if (!this.#receiver) return;
    await this.#teardown();
  }

  async #teardown(): Promise<void> {
    const receiver = this.#receiver;
    this.#receiver = undefined;
    this.#ctx = undefined;
    this.#stop?.abort();
    receiver?.close();
    const stopped = new TransportError('transport stopped', { code: 'ERR_STOPPED' });
    const closing: Promise<void>[] = [];
    const terminate = (ws: WebSocket): void => {
      if (ws.readyState === WebSocket.CLOSED) return;
      closing.push(new Promise((resolve) => ws.once('close', () => resolve())));
      ws.terminate();
    };
    this.#link?.failAll(stopped);
    this.#link = undefined;
    if (this.#ws) terminate(this.#ws);
    this.#ws = undefined;
    for (const c of this.#clients) {
      c.link.failAll(stopped);
      terminate(c.ws);
    }
    this.#clients.clear();
    this.#byAgent.clear();
    for (const s of this.#rawSockets) {
      if (!s.closed) closing.push(new Promise((resolve) => s.once('close', () => resolve())));
      s.destroy();
    }
    const wss = this.#wss;
    const server = this.#http;
    this.#wss = undefined;
    this.#http = undefined;
    if (wss) closing.push(new Promise((resolve) => wss.close(() => resolve())));
    if (server?.listening) closing.push(new Promise((resolve) => server.close(() => resolve())));
    await Promise.all(closing);
    this.#budget?.close();
    this.#budget = undefined;
    this.#port = undefined;
  }

  async #listen(ctx: LinkContext): Promise<void> {
    const o = this.#o;
    // Header timeout (slowloris before the upgrade): the request head must arrive within one
    // frame-progress window, checked a few times per window.
    const headMs = this.#budget!.progressTimeoutMs;
    const head = headMs > 0 ? { headersTimeout: headMs, connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(headMs / 4))) } : {};
    const server = o.tls ? https.createServer({ ...o.tls, ...head }) : http.createServer(head);
    server.maxConnections = o.maxClients ?? DEFAULT_MAX_WS_CLIENTS;
    // Plain HTTP requests get a 426; only upgrades are served.
    server.on('request', (_req, res) => res.writeHead(426, { connection: 'close' }).end());
    server.on('connection', (s: net.Socket) => {
      this.#rawSockets.add(s);
      s.once('close', () => this.#rawSockets.delete(s));
      if (!this.#receiver) s.destroy();
    });
    server.on('tlsClientError', (err: Error, s: net.Socket) => {
      this.#instruments.connectFailed(`${s.remoteAddress}:${s.remotePort}`, 1, err);
    });
    // Errors before the upgrade (bad HTTP, a reset): counted, the socket closed.
    server.on('clientError', (err: Error & { code?: string }, s: net.Socket) => {
      const remote = `${s.remoteAddress}:${s.remotePort}`;
      this.#instruments.socketError('inbound', remote, err);
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') this.#instruments.rejected('slow', { remote, stage: 'upgrade request', headersTimeoutMs: headMs });
      s.destroy();
    });
    // allowSynchronousEvents (ws's default, made explicit): messages are emitted while ws parses
    // a read, which the inbound meter (ws-meter.ts) relies on.
    // Subprotocols: WS_AUTH_PROTOCOL when authentication is required (a browser client offers it
    // to get the challenge in-band; see ws-auth-proof.ts), WS_PLAIN_PROTOCOL otherwise; never others.
    const auth = this.#auth;
    const wss = new WebSocketServer({
      server,
      maxPayload: this.maxFrameBytes + FRAME_HEADER_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
      allowSynchronousEvents: true,
      handleProtocols: (protocols: Set<string>) => WsServerAuth.selectProtocol(protocols, auth !== undefined),
    });
    if (auth) wss.on('headers', (headers: string[], req: IncomingMessage) => auth.onHeaders(headers, req));
    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => this.#onClient(ws, req, ctx));
    wss.on('error', (err) => this.#instruments.debug({ err }, 'websocket server error'));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new TransportError(`cannot listen on ${this.host}:${o.port ?? 0}: ${err.message}`, { code: 'ERR_LISTEN', cause: err }));
      };
      server.once('error', onError);
      server.listen({ host: this.host, port: o.port ?? 0 }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.#http = server;
    this.#wss = wss;
    this.#port = (server.address() as net.AddressInfo).port;
  }

  #onClient(ws: WebSocket, req: IncomingMessage, ctx: LinkContext): void {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    // First, before anything can fail: a bad frame must close this connection, not the process.
    guardWsErrors(ws, this.#instruments, 'inbound', remote, this.maxFrameBytes);
    const budget = this.#budget;
    if (!budget) {
      ws.terminate(); // an upgrade that completed while the transport was stopping
      return;
    }
    // ws cleared the socket's timeout at the upgrade: the idle clock starts now.
    this.#idle?.arm(req.socket);
    const meter = meterWsConnection(ws, req.socket, budget, this.#instruments, remote, this.#auth ? this.#preAuthMaxBytes : undefined);
    const link = new WsLink(ctx, remote);
    const client: ServerClient = { ws, link, remote };
    const learned = new Set<string>();
    const announced = req.headers[AGENT_HEADER];
    if (this.#auth) {
      // Nothing is routed (not even broadcasts) and nothing is read until the client proves its key.
      const claimed = typeof announced === 'string' && announced !== '' ? announced : undefined;
      ws.once('close', () => {
        this.#clients.delete(client);
        for (const id of learned) if (this.#byAgent.get(id) === client) this.#byAgent.delete(id);
        link.failAll(new TransportError(`connection to ${remote} closed`, { code: 'ERR_CONNECTION_CLOSED' }));
      });
      this.#auth.await(ws, req, this.#o.authUrl ?? this.listenUrl, claimed, remote, (agentId) => {
        meter.setLimit(budget.maxConnectionBytes);
        attachWsReader(ws, ctx, 'inbound', remote);
        this.#clients.add(client);
        learned.add(agentId);
        this.#byAgent.set(agentId, client);
        link.attach(ws);
      });
      return;
    }
    this.#clients.add(client);
    // Learn which agent speaks on this connection (unauthenticated; at most 64 ids per connection,
    // all forgotten when it closes).
    if (typeof announced === 'string' && announced !== '' && announced.length <= 256) {
      learned.add(announced);
      this.#byAgent.set(announced, client);
    }
    attachWsReader(ws, ctx, 'inbound', remote, (m) => {
      if (m.sender === '' || this.#byAgent.get(m.sender) === client) return;
      if (!learned.has(m.sender) && learned.size >= 64) return;
      learned.add(m.sender);
      this.#byAgent.set(m.sender, client);
    });
    ws.once('close', () => {
      this.#clients.delete(client);
      for (const id of learned) if (this.#byAgent.get(id) === client) this.#byAgent.delete(id);
      link.failAll(new TransportError(`connection to ${remote} closed`, { code: 'ERR_CONNECTION_CLOSED' }));
    });
    link.attach(ws);
  }

  async #connect(): Promise<void> {
    return this.#connecting.run(async () => this.#useClientSocket(await this.#redial.dial(this.#stop!.signal)));
  }

  #dialOnce(stop: AbortSignal): Promise<WebSocket> {
    const o = this.#o;
    const headers: Record<string, string> = {};
    if (this.agentId) headers[AGENT_HEADER] = this.agentId;
    const url = this.url!;
    this.#remote = url;
    const ws = new WebSocket(url, {
      ...(o.tls as object),
      headers,
      maxPayload: this.maxFrameBytes + FRAME_HEADER_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    this.#ws = ws; // tracked at once, so stop() can terminate a handshake in progress
    guardWsErrors(ws, this.#instruments, 'outbound', url, this.maxFrameBytes);
    let challenge: Buffer | undefined;
    ws.once('upgrade', (res: IncomingMessage) => {
      challenge = readChallenge(res.headers);
    });
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        stop.removeEventListener('abort', onAbort);
        ws.off('open', onOpen);
        ws.off('error', onError);
        if (err) {
          ws.on('error', () => undefined);
          ws.terminate();
          if (this.#ws === ws) this.#ws = undefined;
          reject(err);
        } else resolve(ws);
      };
      const onOpen = (): void => {
        if (!challenge) return done();
        // The server requires authentication: the proof must be the first message on the socket.
        if (!o.identity?.canSign) {
          return done(new TransportError(`${url} requires client authentication: give an identity with a secret key`, { code: 'ERR_AUTH' }));
        }
        ws.send(encodeAuthProof(o.identity, challenge, url));
        done();
      };
      const onError = (err: Error): void => done(new TransportError(`cannot connect to ${url}: ${err.message}`, { code: 'ERR_CONNECT', cause: err }));
      const onAbort = (): void => done(new AbortError('connect aborted'));
      ws.once('open', onOpen);
      ws.once('error', onError);
      stop.addEventListener('abort', onAbort, { once: true });
    });
  }

  #useClientSocket(ws: WebSocket): void {
    const ctx = this.#ctx!;
    const link = this.#link!;
    this.#ws = ws;
    attachWsReader(ws, ctx, 'outbound', this.#remote);
    ws.once('close', (code: number, reason: Buffer) => {
      link.detach(ws);
      if (this.#ws === ws) this.#ws = undefined;
      if (code === WS_AUTH_CLOSE_CODE) {
        // Refused by the server: do not redial in a loop; queued frames fail, the next send redials.
        const err = new TransportError(`${this.#remote} refused this client (${reason.toString()})`, { code: 'ERR_AUTH' });
        this.#instruments.connectFailed(this.#remote, 1, err);
        const n = link.failAll(err);
        if (n > 0) this.#instruments.sendFailed('connect', err, this.#remote, n);
        return;
      }
      // Frames still queued go out on a new connection; otherwise the next send reconnects.
      if (this.#receiver && link.queued > 0) void this.#connect().catch(() => undefined);
    });
    link.attach(ws);
  }

  /**
   * Sends a message (client: to the server; server: see the class notes). Resolves once handed
   * to the socket. Rejects with `NotStartedError`, `FrameTooLargeError`, `TransportError`
   * (`ERR_NO_ROUTE`, `ERR_CONNECT`, `ERR_STOPPED`, `ERR_CONNECTION_CLOSED`), `QueueFullError` or `AbortError`.
   */
  send(message: Message, options?: SendOptions): Promise<void> {
    if (!this.#ctx) return Promise.reject(new NotStartedError('WebSocketTransport is not started'));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('send aborted', { cause: signal.reason }));
    let frame: Buffer;
    let links: WsLink[];
    try {
      frame = encodeFrame(encodeMessage(message), this.maxFrameBytes);
      links = this.mode === 'client' ? [this.#link!] : this.#routeServer(message);
      for (const l of links) {
        if (!l.hasRoom(frame.byteLength)) throw new QueueFullError(`write queue full (${l.queued} frames)`);
      }
    } catch (err) {
      const reason = FrameTooLargeError.is(err) ? 'oversize' : QueueFullError.is(err) ? 'queue_full' : 'no_route';
      this.#instruments.sendFailed(reason, err);
      return Promise.reject(err);
    }
    if (this.mode === 'client') {
      const link = links[0]!;
      const p = link.send(frame, signal);
      if (!link.open) void this.#connect().catch(() => undefined); // failures reject the queued sends
      return p;
    }
    if (links.length === 1) return links[0]!.send(frame, signal);
    return Promise.all(links.map((l) => l.send(frame, signal))).then(() => undefined);
  }

  #routeServer(message: Message): WsLink[] {
    if (message.recipient !== null) {
      const c = this.#byAgent.get(message.recipient);
      if (c) return [c.link];
      throw new TransportError(`no connected client is agent ${message.recipient}`, { code: 'ERR_NO_ROUTE' });
    }
    if (this.#clients.size === 0) throw new TransportError('no connected client to send to', { code: 'ERR_NO_ROUTE' });
    return [...this.#clients].map((c) => c.link);
  }
}
