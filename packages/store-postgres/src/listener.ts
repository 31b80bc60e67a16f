/**
 * The dedicated LISTEN connection of a `PostgresStore`: hears `pg_notify(channel, key)` from
 * every process writing the table and reconnects (jittered, capped backoff) when the
 * connection goes away. Notifications sent while it is down are lost (PostgreSQL does not
 * queue them for a session that is not listening): `watch` is a wake-up hint, not a log.
 */
import { abortableSleep, storeRetryDelay, withStoreRetry, type StoreRetryHooks, type StoreRetryPolicy } from '@converge/core';
import pg from 'pg';
import { POSTGRES_BACKEND, isTransient } from './retry.js';

/** What the listener reports to its store. */
export interface ListenerEvents extends StoreRetryHooks {
  /** A notification: `key` was written or deleted by the backend `pid`. */
  onNotify(key: string, pid: number): void;
  /** The connection was lost and a reconnect began. */
  onLost(err: unknown): void;
  /** LISTEN is active again after a loss. */
  onRestored(): void;
}

/** One LISTEN connection with automatic reconnection. */
export class NotifyListener {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #policy: StoreRetryPolicy;
  readonly #events: ListenerEvents;
  #client: pg.Client | undefined;
  #stopped = false;
  #reconnecting: Promise<void> | undefined;
  #abort = new AbortController();

  constructor(config: pg.ClientConfig, channel: string, policy: StoreRetryPolicy, events: ListenerEvents) {
    this.#config = config;
    this.#channel = channel;
    this.#policy = policy;
    this.#events = events;
  }

  /** Whether LISTEN is active right now. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  /** Connects and LISTENs, with the store's bounded retries; throws `ERR_STORE_UNAVAILABLE`. */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#abort = new AbortController();
    await withStoreRetry(POSTGRES_BACKEND, this.#policy, 'LISTEN', undefined, () => this.#connect(), this.#events);
  }

  /** Closes the connection; no reconnect happens after this. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.end().catch(() => undefined);
    await this.#reconnecting;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    // Attached before connect: an 'error' without a listener would crash the process.
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('LISTEN connection ended')));
    client.on('notification', (n) => {
      if (n.channel === this.#channel && typeof n.payload === 'string') this.#events.onNotify(n.payload, n.processId);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.#channel)}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#stopped) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client) return; // an old or never-installed connection
    this.#client = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.#stopped) return;
    this.#events.onLost(err);
    this.#reconnecting = this.#reconnectLoop().finally(() => {
      this.#reconnecting = undefined;
    });
  }

  // Keeps trying while the store runs (a watcher must not go deaf for good), at most one
  // attempt per `maxDelayMs` once the backoff is capped.
  async #reconnectLoop(): Promise<void> {
    for (let n = 0; !this.#stopped; n++) {
      await abortableSleep(storeRetryDelay(this.#policy, n), this.#abort.signal).catch(() => undefined);
      if (this.#stopped) return;
      try {
        await this.#connect();
        if (!this.#stopped) this.#events.onRestored();
        return;
      } catch (err) {
        if (!isTransient(err)) this.#events.onLost(err);
      }
    }
  }
}
