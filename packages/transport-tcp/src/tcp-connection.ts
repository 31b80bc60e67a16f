import net from 'node:net';
import tls from 'node:tls';
import { AbortError, FrameTooLargeError, TransportError } from '@converge/core';
import { FrameDecoder } from '@converge/network/internal';
import type { InboundBudget } from '@converge/network/internal';
import type { NetInstruments } from '@converge/network/internal';
import type { FrameReceiver, NetTlsOptions } from '@converge/network/internal';

/**
 * TLS settings, passed through to `tls.createServer` (listening) and `tls.connect` (dialing):
 * `key`, `cert`, `ca`, `requestCert` (server: ask for a client certificate; with
 * `rejectUnauthorized` this is mutual TLS), `rejectUnauthorized` (default `true` in Node),
 * `servername` (dial: SNI and the name checked against the server certificate), and any other
 * `node:tls` option.
 */
export type TcpTlsOptions = NetTlsOptions;

/** What a connection reader needs from its transport. */
export interface ReaderContext {
  readonly maxFrameBytes: number;
  readonly instruments: NetInstruments;
  readonly receiver: FrameReceiver;
  /** The transport's inbound byte budget and slow-frame sweep, shared by all its connections. */
  readonly budget: InboundBudget;
}

/** `host:port` of the far end of a socket, for logs. */
export function remoteOf(socket: net.Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

/**
 * Reads frames from `socket` into the transport's receive queue until it closes. Counts and
 * logs: an oversize prefix (the connection is destroyed at once, nothing is buffered for the
 * frame), malformed bodies (dropped, the connection continues), and a connection that ends in
 * the middle of a frame (`truncated`). Calls `onClose` once, after the socket has closed.
 *
 * The bytes held for an unfinished frame are reserved, after every read, from the transport's
 * `InboundBudget`: a connection that would go over its own budget or the transport's is
 * destroyed and counted (`over_budget`), as is one whose unfinished frame progresses too
 * slowly or is held too long (`slow`, found by the budget's sweep).
 */
export function attachReader(
  socket: net.Socket,
  ctx: ReaderContext,
  direction: 'inbound' | 'outbound',
  remote: string,
  onClose: (err: Error | undefined) => void,
): void {
  const decoder = new FrameDecoder({ maxFrameBytes: ctx.maxFrameBytes });
  const { instruments, receiver } = ctx;
  let delivered = 0;
  let frames = 0;
  let lastError: Error | undefined;
  let refused = false;
  const onFrame = (body: Uint8Array): void => {
    frames++;
    if (receiver.deliver(body, remote)) delivered++;
  };
  const meter = ctx.budget.open((v) => {
    refused = true;
    instruments.rejected(v.reason, { remote, direction, ...v.detail });
    socket.destroy();
  });
  receiver.attach(socket);
  instruments.opened(direction, remote);
  socket.on('data', (chunk: Buffer) => {
    instruments.receivedBytes(chunk.byteLength);
    delivered = 0;
    frames = 0;
    try {
      decoder.push(chunk, onFrame);
    } catch (err) {
      if (!FrameTooLargeError.is(err)) throw err;
      instruments.rejected('oversize', { remote, direction, size: err.size, limit: err.limit }, err);
      lastError = err;
      socket.destroy();
    }
    if (delivered > 0) instruments.received(delivered);
    if (!socket.destroyed) meter.update(decoder.bufferedBytes, chunk.byteLength, frames > 0);
  });
  socket.on('error', (err) => {
    lastError = err;
    instruments.socketError(direction, remote, err);
  });
  socket.once('close', () => {
    receiver.detach(socket);
    meter.close();
    if (decoder.hasPartialFrame && !decoder.error && !refused) {
      instruments.rejected('truncated', { remote, direction, buffered: decoder.bufferedBytes });
    }
    decoder.reset();
    instruments.closed(direction, remote, lastError);
    onClose(lastError);
  });
}

/** Where and how to dial. */
export interface DialOptions {
  host: string;
  port: number;
  tls: TcpTlsOptions | undefined;
  connectTimeoutMs: number;
  /** Aborting destroys the half-open socket and rejects with `AbortError`. */
  signal: AbortSignal;
}

/**
 * Opens a TCP (or TLS) connection. Resolves once connected (TLS: once the handshake has
 * succeeded and the server certificate was accepted); rejects with `TransportError`
 * (`ERR_CONNECT`) on refusal, timeout or TLS failure, or `AbortError`. A socket that fails is
 * destroyed before the promise settles, so nothing is left open.
 */
export function dial(options: DialOptions): Promise<net.Socket> {
  const { host, port, signal } = options;
  if (signal.aborted) return Promise.reject(new AbortError('dial aborted', { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    const socket = options.tls
      ? tls.connect({ ...(options.tls as tls.ConnectionOptions), host, port, servername: options.tls.servername ?? (net.isIP(host) ? undefined : host) })
      : net.connect({ host, port });
    const readyEvent = options.tls ? 'secureConnect' : 'connect';
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off(readyEvent, onReady);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        // Until the caller attaches its own handlers, an error must not crash the process.
        socket.on('error', () => {});
        resolve(socket);
      }
    };
    const onReady = (): void => finish();
    const onError = (err: Error): void => finish(new TransportError(`cannot connect to ${host}:${port}: ${err.message}`, { code: 'ERR_CONNECT', cause: err }));
    const onAbort = (): void => finish(new AbortError('dial aborted', { cause: signal.reason }));
    const timer = setTimeout(
      () => finish(new TransportError(`connect to ${host}:${port} timed out after ${options.connectTimeoutMs} ms`, { code: 'ERR_CONNECT' })),
      options.connectTimeoutMs,
    );
    socket.once(readyEvent, onReady);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
