// A raw WebSocket client on a plain socket, for tests that send what a real client never would.
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { AGENT_HEADER, WS_AUTH_CHALLENGE_HEADER, WebSocketTransport } from '../src/index.js';

/** A raw socket after a completed (101) upgrade, and what the server answered. */
export interface RawUpgraded {
  socket: net.Socket;
  /** The 101 response head (status line and headers). */
  head: string;
  /** Resolves when the server closes (or resets) the connection. */
  closed: Promise<void>;
}

/** Opens a socket to 127.0.0.1:`port` and performs the upgrade by hand, announcing `agent`. */
export async function rawUpgrade(port: number, agent: string, options: { tls?: tls.ConnectionOptions } = {}): Promise<RawUpgraded> {
  const socket = options.tls ? tls.connect({ host: '127.0.0.1', port, ...options.tls }) : net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise((r) => socket.once(options.tls ? 'secureConnect' : 'connect', r));
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${AGENT_HEADER}: ${agent}\r\n\r\n`,
  );
  let got = '';
  const head = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve(got.slice(0, end));
    };
    socket.on('data', onData);
    void closed.then(() => reject(new Error(`closed during the upgrade: ${got}`)));
  });
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head}`);
  socket.resume();
  return { socket, head, closed };
}

/**
 * A masked client WebSocket frame header (mask key 0, so the payload goes as is) announcing
 * `length` payload bytes; `fin: false` starts a fragmented message.
 */
export function wsFrameHeader(length: number, options: { opcode?: number; fin?: boolean } = {}): Buffer {
  const b0 = (options.fin === false ? 0 : 0x80) | (options.opcode ?? 0x2);
  const mask = [0, 0, 0, 0];
  if (length < 126) return Buffer.from([b0, 0x80 | length, ...mask]);
  if (length < 65536) return Buffer.from([b0, 0x80 | 126, length >> 8, length & 0xff, ...mask]);
  const h = Buffer.alloc(14);
  h[0] = b0;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

/** A complete masked client frame carrying `payload`. */
export function wsFrame(payload: Uint8Array, options: { opcode?: number } = {}): Buffer {
  return Buffer.concat([wsFrameHeader(payload.byteLength, options), payload]);
}

/** A `ws` client that announced an agent id, with the auth challenge the server sent. */
export interface AuthClient {
  ws: WebSocket;
  /** The 32-byte challenge of the upgrade response (empty when the server sent none). */
  challenge: Buffer;
  /** Every message the server sent. */
  got: Buffer[];
  /** Resolves with the close code. */
  closed: Promise<number>;
}

/**
 * Opens a `ws` client to `url` claiming agent id `claim` (the proof is up to the caller);
 * `onCleanup` receives its terminate. `options` go to `ws` (a CA for `wss://`, say).
 */
export async function openAuthClient(
  url: string,
  claim: string,
  onCleanup: (c: () => Promise<unknown>) => void,
  options: WebSocket.ClientOptions = {},
): Promise<AuthClient> {
  const ws = new WebSocket(url, { ...options, headers: { [AGENT_HEADER]: claim } });
  ws.on('error', () => undefined);
  let challenge = Buffer.alloc(0);
  ws.once('upgrade', (res: IncomingMessage) => {
    const h = res.headers[WS_AUTH_CHALLENGE_HEADER];
    if (typeof h === 'string') challenge = Buffer.from(h, 'base64');
  });
  const got: Buffer[] = [];
  ws.on('message', (d: Buffer) => got.push(d));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise((r) => ws.once('open', r));
  onCleanup(async () => ws.terminate());
  return {
    ws,
    get challenge() {
      return challenge;
    },
    got,
    closed,
  };
}

/** Options of the transports the WebSocket tests start. */
export type WsTestOptions = ConstructorParameters<typeof WebSocketTransport>[0];

/**
 * Starts a `WebSocketTransport` that gives up reconnecting at once (tests want failures fast);
 * `onCleanup` receives its stop.
 */
export async function startWs(options: WsTestOptions, onCleanup: (c: () => Promise<unknown>) => void): Promise<WebSocketTransport> {
  const t = new WebSocketTransport({ reconnect: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 }, ...options });
  await t.start();
  onCleanup(() => t.stop());
  return t;
}
