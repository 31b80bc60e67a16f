// A real HTTP server on 127.0.0.1 for provider tests: records every request and lets each
// test answer as the provider's API would (or not at all).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the server received. */
export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Answers request number `n` (0-based). */
export type Handler = (req: IncomingMessage, res: ServerResponse, n: number, recorded: Recorded) => void | Promise<void>;

/** A running fake API. */
export interface FakeServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: Recorded[];
  /** Resolves when `count` requests have arrived. */
  waitForRequests(count: number): Promise<void>;
  /** Connections closed by the client so far (e.g. after a cancelled stream). */
  clientCloses: number;
  close(): Promise<void>;
}

/** Starts a server whose every request is answered by `handler`. */
export async function startFakeServer(handler: Handler): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const state = { clientCloses: 0 };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
      const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      const n = requests.push(rec) - 1;
      res.on('close', () => {
        if (!res.writableFinished) state.clientCloses++;
      });
      for (const w of waiters.filter((x) => requests.length >= x.count)) w.resolve();
      void Promise.resolve(handler(req, res, n, rec)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    get clientCloses() {
      return state.clientCloses;
    },
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sends a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/**
 * Streams `text` as SSE in deliberately awkward pieces (1–7 bytes, cutting through lines,
 * `data:` prefixes and multi-byte UTF-8 characters), yielding to the event loop between writes
 * so that they leave as separate TCP writes.
 */
export async function sendSseAwkwardly(res: ServerResponse, text: string, opts: { end?: boolean } = {}): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const bytes = Buffer.from(text, 'utf8');
  const sizes = [1, 3, 7, 2, 5, 4, 6];
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const n = sizes[k % sizes.length]!;
    res.write(bytes.subarray(i, i + n));
    i += n;
    await new Promise((r) => setImmediate(r));
  }
  if (opts.end !== false) res.end();
}
