import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigError } from '@converge/core';
import type { MetricsCollector } from './metrics.js';
import type { HealthChecks, HealthReport } from './health.js';

/** Options of `serveMetrics`. */
export interface ServeMetricsOptions {
  /** Port to listen on; `0` picks a free one (read back from the result). */
  port: number;
  /** Interface to bind; default `127.0.0.1` (not exposed beyond the host unless asked). */
  host?: string;
  /** The metrics to expose. */
  collector: MetricsCollector;
  /** Path answered; default `/metrics`. */
  path?: string;
  /** Aborting closes the server. */
  signal?: AbortSignal;
  /**
   * Health and readiness checks: when given, `GET /healthz` and `GET /readyz` answer 200 when
   * every check passes and 503 otherwise, with the report as JSON (`{ status, checks }`).
   */
  health?: HealthChecks;
}

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/** Time allowed to send headers and body of a scrape request before the socket is dropped: 10 s. */
export const METRICS_REQUEST_TIMEOUT_MS = 10_000;

/** Path of the health (liveness) probe when `serveMetrics` is given checks. */
export const HEALTH_PATH = '/healthz';
/** Path of the readiness probe when `serveMetrics` is given checks. */
export const READY_PATH = '/readyz';

/**
 * Serves the Prometheus text exposition of `collector` over HTTP: `GET` (or `HEAD`) on `path`
 * answers 200 with prom-client's content type; with `health`, `/healthz` and `/readyz` answer
 * the checks (200 or 503, JSON); other paths answer 404, other methods 405.
 */
export async function serveMetrics(options: ServeMetricsOptions): Promise<MetricsServer> {
  const { port, host = '127.0.0.1', path = '/metrics', signal } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port ${port}`, { key: 'port' });
  if (!path.startsWith('/')) throw new ConfigError(`path must start with "/": ${path}`, { key: 'path' });
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => answer(options, path, req, res));
  server.requestTimeout = METRICS_REQUEST_TIMEOUT_MS;
  server.headersTimeout = METRICS_REQUEST_TIMEOUT_MS;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      signal?.removeEventListener('abort', onAbort);
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }));
  const onAbort = () => void close();
  if (signal?.aborted) await close();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return { port: (server.address() as AddressInfo).port, close };
}

/** Answers one request: the metrics at `path`, the probes (with `health`), else 404 or 405. */
function answer(options: ServeMetricsOptions, path: string, req: IncomingMessage, res: ServerResponse): void {
  const { collector, health } = options;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const probe = health && (url.pathname === HEALTH_PATH || url.pathname === READY_PATH) ? url.pathname : undefined;
  if (url.pathname !== path && probe === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  if (probe !== undefined) return answerProbe(probe === HEALTH_PATH ? health!.health() : health!.readiness(), req, res);
  collector.metrics().then(
    (body) => {
      res.writeHead(200, { 'content-type': collector.registry.contentType, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    (err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics collection failed: ${(err as Error).message}\n`);
    },
  );
}

/** 200 or 503 with the report as JSON (`{ status, checks }`); a check that throws drops the socket. */
function answerProbe(report: Promise<HealthReport>, req: IncomingMessage, res: ServerResponse): void {
  void report
    .then((r: HealthReport) => {
      const body = `${JSON.stringify({ status: r.ok ? 'ok' : 'fail', checks: r.checks })}\n`;
      res.writeHead(r.ok ? 200 : 503, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    })
    .catch(() => res.destroy());
}
