import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { ConvergeError, type Identity } from '@converge/core';
import type { Logger } from '@converge/observability';
import { WS_AUTH_CHALLENGE_HEADER, WS_AUTH_PROTOCOL, encodeChallengeMessage, verifyAuthProof } from '@converge/transport-websocket';
import { UI_WS_PATH, authUrlOf, unframeBytes } from './protocol.js';
import { pageHtml, type PageAssets } from './assets.js';

/** Default most pages (observers) connected at once: 16. */
export const DEFAULT_UI_MAX_OBSERVERS = 16;
/** Default bytes waiting to be written to one page above which agent-message copies are dropped (counted): 4 MiB. */
export const DEFAULT_UI_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Default largest WebSocket message a page (or any client) may send: 64 KiB. */
export const DEFAULT_UI_MAX_CLIENT_FRAME_BYTES = 64 * 1024;
/** Default time a client has to send its proof after the challenge: 10,000 ms. */
export const DEFAULT_UI_AUTH_TIMEOUT_MS = 10_000;

/** Thrown when the `--ui` port cannot be listened on. */
export class UiListenError extends ConvergeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, 'ERR_UI_LISTEN', options);
    this.name = 'UiListenError';
  }
}

/** Options of {@link UiServer}. */
export interface UiServerOptions {
  /** Port on 127.0.0.1 (0 = a free one). */
  port: number;
  /** The relay's identity: its public key is written into the page, which verifies the relay's messages with it. */
  relay: Identity;
  /** The page's script and what it says about itself. */
  assets: () => Promise<PageAssets>;
  maxObservers?: number;
  maxBufferedBytes?: number;
  maxClientFrameBytes?: number;
  authTimeoutMs?: number;
  logger?: Logger;
  /** Called when a page has authenticated (to send it what it missed). */
  onJoin?: (observer: UiObserver) => void;
}

/** One authenticated page. */
export interface UiObserver {
  /** The fingerprint of the key the page proved. */
  readonly id: string;
  /** Sends one frame; `droppable` frames are dropped (and counted) while the page is behind. Returns whether it was sent. */
  send(frame: Uint8Array, droppable: boolean): boolean;
}

/** Counters of a {@link UiServer}. */
export interface UiServerStats {
  /** Pages that proved their key. */
  authenticated: number;
  /** Connections refused: bad origin, too many pages, bad or missing proof, timeout. */
  refused: number;
  /** Agent-message copies not sent because a page was behind. */
  dropped: number;
  /** Frames from one client passed on to the other pages (the page verifies them). */
  forwarded: number;
  /** Client frames refused (not a frame, or over the size limit). */
  refusedFrames: number;
}

interface Conn {
  ws: WebSocket;
  observer?: UiObserver;
}

/**
 * The `--ui` server on 127.0.0.1: `GET /` (the page), `GET /app.js` (its bundle) and the page's
 * WebSocket at `/ws`. A WebSocket client must come from the page's own origin (or send no
 * `Origin`, as non-browser clients do) and prove an Ed25519 key before it receives anything,
 * exactly as a client of `WebSocketTransport` with `requireAuth` does: a fresh 32-byte challenge
 * in the 101 response header and, for a client that offered `converge-auth.v1` (a browser),
 * again as the first message; the transport's proof as the client's first message. Every frame an authenticated client sends is passed on unverified to the
 * other pages, which verify it: the server adds no trust, it only relays.
 */
export class UiServer {
  /** Counters. */
  readonly stats: UiServerStats = { authenticated: 0, refused: 0, dropped: 0, forwarded: 0, refusedFrames: 0 };
  readonly #o: UiServerOptions;
  readonly #conns = new Set<Conn>();
  readonly #sockets = new Set<net.Socket>();
  readonly #challenges = new WeakMap<http.IncomingMessage, Buffer>();
  #http: http.Server | undefined;
  #wss: import('ws').WebSocketServer | undefined;
  #port: number | undefined;

  constructor(options: UiServerOptions) {
    this.#o = options;
  }

  /** The port listened on (after `start()`). */
  get port(): number {
    if (this.#port === undefined) throw new UiListenError('the ui server is not listening');
    return this.#port;
  }

  /** `http://127.0.0.1:PORT/`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Authenticated pages now. */
  get observers(): UiObserver[] {
    const out: UiObserver[] = [];
    for (const c of this.#conns) if (c.observer) out.push(c.observer);
    return out;
  }

  /** Listens on 127.0.0.1. Throws `UiListenError` (port in use, …) or a `ConfigError`-like error when `ws` is missing. */
  async start(): Promise<void> {
    let WebSocketServer: typeof import('ws').WebSocketServer;
    try {
      ({ WebSocketServer } = await import('ws'));
    } catch (err) {
      throw new UiListenError('--ui needs the ws package: npm i ws', { cause: err });
    }
    const maxPayload = this.#o.maxClientFrameBytes ?? DEFAULT_UI_MAX_CLIENT_FRAME_BYTES;
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
      // Only the authenticating subprotocol is ever selected (a client offering none gets none).
      handleProtocols: (protocols: Set<string>) => (protocols.has(WS_AUTH_PROTOCOL) ? WS_AUTH_PROTOCOL : false),
    });
    wss.on('headers', (headers: string[], req: http.IncomingMessage) => {
      const challenge = randomBytes(32);
      this.#challenges.set(req, challenge);
      headers.push(`${WS_AUTH_CHALLENGE_HEADER}: ${challenge.toString('base64')}`);
    });
    const server = http.createServer((req, res) => void this.#serve(req, res));
    server.on('connection', (s: net.Socket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const refusal = this.#upgradeRefusal(req);
      if (refusal) {
        this.#refuse(refusal, req.socket.remoteAddress);
        socket.end(`HTTP/1.1 ${refusal.status} ${refusal.text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws, req));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new UiListenError(`--ui cannot listen on 127.0.0.1:${this.#o.port}: ${err.message}`, { cause: err })));
      server.listen({ host: '127.0.0.1', port: this.#o.port }, () => resolve());
    });
    this.#http = server;
    this.#wss = wss;
    this.#port = (server.address() as net.AddressInfo).port;
  }

  /** Closes every page's connection and the server. Idempotent. */
  async close(): Promise<void> {
    const server = this.#http;
    this.#http = undefined;
    for (const c of this.#conns) c.ws.terminate();
    this.#conns.clear();
    for (const s of this.#sockets) s.destroy();
    this.#wss?.close();
    this.#wss = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, headers).end();
      if (path === '/') {
        const html = pageHtml(this.#o.relay.publicKey);
        // The page loads only its own script and talks only to its own origin.
        const csp =
          "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; img-src 'self' data:";
        return void res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp }).end(html);
      }
      if (path === '/favicon.ico') return void res.writeHead(204, headers).end();
      if (path === '/app.js') {
        const assets = await this.#o.assets();
        return void res.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' }).end(assets.js);
      }
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found\n');
    } catch (err) {
      this.#o.logger?.error({ err }, 'ui: cannot serve the page');
      if (!res.headersSent) res.writeHead(500, { ...headers, 'content-type': 'text/plain' });
      res.end(`cannot build the page: ${(err as Error).message}\n`);
    }
  }

  #upgradeRefusal(req: http.IncomingMessage): { status: number; text: string; reason: string } | undefined {
    if ((req.url ?? '').split('?')[0] !== UI_WS_PATH) return { status: 404, text: 'Not Found', reason: 'path' };
    const origin = req.headers.origin;
    // A browser always sends Origin: only the page itself may connect (no cross-site WebSocket hijacking).
    if (origin !== undefined && !this.#ownOrigins().includes(origin)) return { status: 403, text: 'Forbidden', reason: 'origin' };
    const max = this.#o.maxObservers ?? DEFAULT_UI_MAX_OBSERVERS;
    if (this.#conns.size >= max) return { status: 503, text: 'Service Unavailable', reason: 'too_many' };
    return undefined;
  }

  #ownOrigins(): string[] {
    return [`http://127.0.0.1:${this.#port}`, `http://localhost:${this.#port}`];
  }

  #refuse(r: { reason: string }, remote: string | undefined): void {
    this.stats.refused++;
    this.#o.logger?.warn({ reason: r.reason, remote }, 'ui: websocket client refused');
  }

  #onSocket(ws: WebSocket, req: http.IncomingMessage): void {
    const conn: Conn = { ws };
    this.#conns.add(conn);
    ws.on('error', () => undefined);
    ws.once('close', () => this.#conns.delete(conn));
    const remote = req.socket.remoteAddress;
    const challenge = this.#challenges.get(req) ?? randomBytes(32);
    this.#challenges.delete(req);
    const fail = (reason: string): void => {
      clearTimeout(timer);
      this.#refuse({ reason }, remote);
      ws.close(1008, `converge-auth: ${reason}`);
      setTimeout(() => ws.terminate(), 1_000).unref();
    };
    const timer = setTimeout(() => fail('timeout'), this.#o.authTimeoutMs ?? DEFAULT_UI_AUTH_TIMEOUT_MS);
    timer.unref();
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      // The URL the client dialled, as its Host header names it (either of the server's own names).
      const host = req.headers.host ?? '';
      const candidates = [`ws://127.0.0.1:${this.#port}`, `ws://localhost:${this.#port}`];
      const url = candidates.includes(authUrlOf(`ws://${host}`)) ? authUrlOf(`ws://${host}`) : candidates[0]!;
      const r = verifyAuthProof(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), challenge, url, undefined);
      if (!r.ok) return fail(r.reason);
      this.stats.authenticated++;
      conn.observer = this.#observer(ws, r.agentId);
      ws.on('message', (d: Buffer) => this.#forward(conn, d));
      this.#o.onJoin?.(conn.observer);
    });
    if (ws.protocol === WS_AUTH_PROTOCOL) ws.send(encodeChallengeMessage(challenge));
  }

  #observer(ws: WebSocket, id: string): UiObserver {
    const max = this.#o.maxBufferedBytes ?? DEFAULT_UI_MAX_BUFFERED_BYTES;
    return {
      id,
      send: (frame, droppable) => {
        if (ws.readyState !== 1) return false;
        if (droppable && ws.bufferedAmount > max) {
          this.stats.dropped++;
          return false;
        }
        ws.send(frame, { binary: true });
        return true;
      },
    };
  }

  #forward(from: Conn, data: Buffer): void {
    const frame = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (unframeBytes(frame) === undefined) {
      this.stats.refusedFrames++;
      this.#o.logger?.warn({ bytes: frame.byteLength, from: from.observer?.id }, 'ui: client frame refused (not a converge frame)');
      return;
    }
    for (const c of this.#conns) {
      if (c !== from && c.observer?.send(new Uint8Array(frame), true)) this.stats.forwarded++;
    }
  }
}
