import { Identity } from '@converge/core';
import type { Transport } from '@converge/core';
import type { Logger } from '@converge/observability';
import { UiServer } from './server.js';
import { UiFeed, type RunSources } from './feed.js';
import { pageAssetsLoader } from './assets.js';

/** What `converge run --ui` adds to a run: the page's server and the feed it shows. */
export interface RunUi {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** The agent's transport, with every sent message copied to the pages. */
  tap: (transport: Transport) => Transport;
  /** Starts showing the run's tasks, agents and pools. */
  watch(sources: RunSources): void;
  /**
   * The work is done: the page says so and the run stays up until `signal` aborts or, with
   * `lingerSeconds`, that many seconds have passed. Resolves `true` when a signal ended it.
   */
  linger(signal: AbortSignal | undefined, lingerSeconds: number | undefined): Promise<boolean>;
  /** Stops the feed and closes the server. */
  close(): Promise<void>;
}

/**
 * Starts the `--ui` server on 127.0.0.1:`port` (0 = a free port) and prints
 * `ui: http://127.0.0.1:PORT/` on `stderr`. The page's bundle is read (or built) on first request.
 */
export async function startUi(options: {
  port: number;
  poolId: string;
  transport: string;
  total: () => number;
  stderr: NodeJS.WritableStream;
  logger?: Logger;
}): Promise<RunUi> {
  const relay = Identity.generate();
  let feed: UiFeed | undefined;
  const server = new UiServer({ port: options.port, relay, assets: pageAssetsLoader(), logger: options.logger, onJoin: (o) => feed?.onJoin(o) });
  await server.start();
  feed = new UiFeed({ server, relay, poolId: options.poolId, transport: options.transport, total: options.total, logger: options.logger });
  const f = feed;
  options.stderr.write(`ui: ${server.url}\n`);
  return {
    url: server.url,
    tap: (t) => f.tap(t),
    watch: (s) => f.watch(s),
    linger: async (signal, lingerSeconds) => {
      f.setPhase('done');
      if (signal?.aborted) return true;
      return new Promise<boolean>((resolve) => {
        const timer = lingerSeconds !== undefined ? setTimeout(() => finish(false), lingerSeconds * 1000) : undefined;
        const onAbort = (): void => finish(true);
        const finish = (bySignal: boolean): void => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(bySignal);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    close: async () => {
      f.setPhase('stopping');
      f.close();
      await server.close();
    },
  };
}
