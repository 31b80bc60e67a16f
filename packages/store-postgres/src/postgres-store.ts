import { checkStorePrefix, checkStoreRevision, ConfigError, DEFAULT_MAX_MESSAGE_BYTES, parseStoredRevision, positiveIntOption } from '@converge/core';
import { ServerStoreCore, STORE_BRAND, StoreError, throwIfAborted } from '@converge/core';
import type { ServerStoreCoreOptions, ServerStoreKind, Store, StoreCallOptions, StoreEntry, StoreLogger, StoreRetryOptions } from '@converge/core';
import pg from 'pg';
import { prefixUpperBound } from './keys.js';
import { NotifyListener } from './listener.js';
import { usePool, type PoolUse } from './pool.js';
import { POSTGRES_BACKEND, isTransient } from './retry.js';
import { buildStatements, checkNames, type Statements } from './schema.js';

/** Default table name. */
export const POSTGRES_DEFAULT_TABLE = 'converge_kv';
/** Default most connections of the pool the store creates (the LISTEN connection is one more). */
export const POSTGRES_DEFAULT_MAX_CONNECTIONS = 10;
/** Default time to establish one connection (ms). */
export const POSTGRES_DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Default server-side `statement_timeout` of the store's connections (ms). */
export const POSTGRES_DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
/** Default `application_name` of the store's connections. */
export const POSTGRES_DEFAULT_APPLICATION_NAME = 'converge-store';
/** Default largest encoded value written or read (10 MiB, the codec's own limit). */
export const POSTGRES_DEFAULT_MAX_VALUE_BYTES = DEFAULT_MAX_MESSAGE_BYTES;

/** Minimal logger (pino-compatible): connection losses and listener errors are logged at `warn`. */
export type PostgresStoreLogger = StoreLogger;

/** Counters of one store instance. */
export interface PostgresStoreStats {
  /** Operations retried after a transient connection error. */
  retries: number;
  /** Operations that failed with `ERR_STORE_UNAVAILABLE` after every retry. */
  unavailable: number;
  /** Records found corrupt (`ERR_STORE_CORRUPT`). */
  corrupt: number;
  /** Exceptions thrown by `watch` listeners. */
  watchErrors: number;
  /** Times the LISTEN connection was lost. */
  listenerLost: number;
  /** Notifications received from other processes. */
  notifications: number;
}

/**
 * Options of `PostgresStore`. Give `connectionString` or `pool`. With the shared ones of
 * `ServerStoreCoreOptions`: `maxKeyLength` (default 1024), `maxValueBytes` (default 10 MiB),
 * `logger` (connection losses, listener errors), `metrics`.
 */
export interface PostgresStoreOptions extends ServerStoreCoreOptions {
  /** e.g. `postgres://user@host:5432/db`. The store then owns its pool and ends it on `stop()`. */
  connectionString?: string;
  /** A pool you own (the store never ends it); its `options` also configure the LISTEN connection. */
  pool?: pg.Pool;
  /** Table holding the keys (default `converge_kv`); created with its sequence by `start()`. */
  table?: string;
  /** NOTIFY channel (default `<table>_changes`). */
  channel?: string;
  /** Pool size when the store creates the pool (default 10). */
  maxConnections?: number;
  /** Time to establish one connection, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Server-side `statement_timeout`, ms, when the store creates the pool (default 30000). */
  statementTimeoutMs?: number;
  /** `application_name` of the connections the store opens (default `converge-store`). */
  applicationName?: string;
  /** Retries of transient connection errors (default 5 attempts, 100 ms doubling to 2 s). */
  retry?: StoreRetryOptions;
  /** Whether `start()` opens the LISTEN connection that `watch` needs for other processes' writes (default true). */
  listen?: boolean;
  /**
   * Whether every write NOTIFYs the channel (default true). NOTIFY serializes commits on the
   * server's notification queue, so a write-heavy deployment that needs no cross-process
   * wake-ups may turn it off; other processes' `watch` listeners then hear nothing from it.
   */
  notify?: boolean;
}

const KIND: ServerStoreKind = { name: 'PostgresStore', label: 'postgres', backend: POSTGRES_BACKEND, defaultMaxValueBytes: POSTGRES_DEFAULT_MAX_VALUE_BYTES };

/**
 * A Store in a PostgreSQL table (see the package README for the schema and guarantees).
 *
 * One row per key; every write takes a new revision from one sequence, so revisions grow
 * across delete and re-create and `compareAndSet` (a single conditional UPDATE, or an INSERT …
 * ON CONFLICT DO NOTHING for revision 0) is exactly-once across processes. Values are msgpack
 * (`encodeValue`) in a bytea. Every write NOTIFYs the channel with the key, and `watch` hears
 * writes of every process through a dedicated LISTEN connection. Transient connection errors
 * are retried with bounded, jittered backoff, then reported as `StoreError` `ERR_STORE_UNAVAILABLE`.
 */
export class PostgresStore implements Store {
  /** Brand (see `isStore` of `@converge/core`). */
  readonly [STORE_BRAND] = true as const;
  readonly #db: PoolUse;
  readonly #table: string;
  readonly #channel: string;
  readonly #sql: Statements;
  readonly #core: ServerStoreCore;
  readonly #listener?: NotifyListener;
  // Backend pids of this store's pool connections: their NOTIFYs were already emitted locally.
  readonly #ownPids = new Set<number>();
  readonly #tracked = new WeakSet<pg.PoolClient>();
  readonly #onPoolError = (err: Error): void => this.#core.telemetry.warn({ err, table: this.#table }, 'idle PostgreSQL connection lost');

  constructor(options: PostgresStoreOptions) {
    if (options === null || typeof options !== 'object') throw new ConfigError('PostgresStore needs options', { key: 'options' });
    if ((options.connectionString === undefined) === (options.pool === undefined)) {
      throw new ConfigError('give exactly one of connectionString or pool', { key: 'connectionString' });
    }
    this.#table = options.table ?? POSTGRES_DEFAULT_TABLE;
    this.#channel = options.channel ?? `${this.#table}_changes`;
    checkNames(this.#table, this.#channel);
    this.#sql = buildStatements(this.#table, options.notify !== false);
    this.#core = new ServerStoreCore(KIND, options, { table: this.#table });

    const applicationName = options.applicationName ?? POSTGRES_DEFAULT_APPLICATION_NAME;
    const connectTimeoutMs = positiveIntOption(options.connectTimeoutMs, POSTGRES_DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs');
    this.#db = usePool(
      options.pool,
      options.connectionString,
      () => ({
        connectionString: options.connectionString,
        application_name: applicationName,
        connectionTimeoutMillis: connectTimeoutMs,
        statement_timeout: positiveIntOption(options.statementTimeoutMs, POSTGRES_DEFAULT_STATEMENT_TIMEOUT_MS, 'statementTimeoutMs'),
        keepAlive: true,
      }),
      () => positiveIntOption(options.maxConnections, POSTGRES_DEFAULT_MAX_CONNECTIONS, 'maxConnections'),
    );
    if (options.listen !== false) {
      // The LISTEN connection never runs statements of its own, so no statement timeout.
      const { statement_timeout: _ignored, ...listenConfig } = this.#db.config as pg.ClientConfig & { statement_timeout?: number };
      this.#listener = new NotifyListener(listenConfig, this.#channel, this.#core.policy, {
        ...this.#core.telemetry.hooks,
        onNotify: (key, pid) => {
          if (this.#ownPids.has(pid)) return;
          this.#core.telemetry.count('notifications');
          this.#core.telemetry.watchers.emit(key);
        },
        onLost: (err) => {
          this.#core.telemetry.count('connectionLost');
          this.#core.telemetry.warn({ err, channel: this.#channel }, 'PostgreSQL LISTEN connection lost, reconnecting');
        },
        onRestored: () => undefined,
      });
    }
  }

  /** Table name in use. */
  get table(): string {
    return this.#table;
  }

  /** NOTIFY channel in use. */
  get channel(): string {
    return this.#channel;
  }

  /** A snapshot of this instance's counters. */
  get stats(): PostgresStoreStats {
    const { connectionLost, ...rest } = this.#core.telemetry.counts;
    return { ...rest, listenerLost: connectionLost };
  }

  /** Whether the LISTEN connection is up (false with `listen: false`). */
  get listening(): boolean {
    return this.#listener?.listening ?? false;
  }

  /**
   * Creates the sequence and table if absent (under an advisory lock, so concurrent starts do
   * not race), checks the columns, and opens the LISTEN connection. A server that stays
   * unreachable through every retry → `StoreError` `ERR_STORE_UNAVAILABLE`; the store then
   * holds no connection and `start()` may be called again (or `stop()` to release the pool).
   */
  async start(): Promise<void> {
    if (!this.#core.beginStart()) return;
    this.#db.pool.on('error', this.#onPoolError);
    try {
      await this.#core.retry('schema setup', undefined, () => this.#setupSchema());
      await this.#listener?.start();
    } catch (err) {
      this.#db.pool.off('error', this.#onPoolError);
      await this.#listener?.stop();
      throw this.#core.wrap(err, 'start', undefined);
    }
    this.#core.started();
  }

  /** Closes the LISTEN connection and, when the store created it, the pool. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#core.stop()) return;
    await this.#listener?.stop();
    if (this.#db.owned) await this.#db.pool.end().catch(() => undefined);
    this.#db.pool.off('error', this.#onPoolError);
  }

  /** The value at `key`, or `undefined`. */
  async get<V = unknown>(key: string, options?: StoreCallOptions): Promise<V | undefined> {
    return (await this.getEntry<V>(key, options))?.value;
  }

  /** The value and revision at `key`, or `undefined`. A malformed row → `ERR_STORE_CORRUPT`. */
  async getEntry<V = unknown>(key: string, options?: StoreCallOptions): Promise<StoreEntry<V> | undefined> {
    const k = this.#core.key(key);
    const res = await this.#query<{ revision: string; value: Buffer; float_paths: Buffer | null }>('get', k, this.#sql.get, [k], options?.signal);
    const row = res.rows[0];
    if (!row) return undefined;
    return this.#core.read<V>(k, { value: row.value, revision: String(row.revision), floats: row.float_paths });
  }

  /** Writes `value` unconditionally; returns the new revision. */
  async put(key: string, value: unknown, options?: StoreCallOptions): Promise<number> {
    const k = this.#core.key(key);
    const v = this.#core.encode(k, value);
    const rev = await this.#write('put', k, this.#sql.put, [k, v.bytes, v.floats, this.#channel], options?.signal);
    if (rev === null) throw new StoreError(`put of ${JSON.stringify(k)} wrote no row`, { key: k });
    return rev;
  }

  /** Writes `value` only if `key` has none; returns whether it wrote. */
  async putIfAbsent(key: string, value: unknown, options?: StoreCallOptions): Promise<boolean> {
    const k = this.#core.key(key);
    const v = this.#core.encode(k, value);
    return (await this.#write('putIfAbsent', k, this.#sql.insert, [k, v.bytes, v.floats, this.#channel], options?.signal)) !== null;
  }

  /**
   * Writes only if the revision of `key` is `expectedRevision` (`0`: absent); returns the new
   * revision or `null` on conflict. One statement, so two processes can never both succeed.
   */
  async compareAndSet(key: string, value: unknown, expectedRevision: number, options?: StoreCallOptions): Promise<number | null> {
    const k = this.#core.key(key);
    checkStoreRevision(expectedRevision);
    const v = this.#core.encode(k, value);
    if (expectedRevision === 0) return this.#write('compareAndSet', k, this.#sql.insert, [k, v.bytes, v.floats, this.#channel], options?.signal);
    return this.#write('compareAndSet', k, this.#sql.update, [k, v.bytes, v.floats, this.#channel, String(expectedRevision)], options?.signal);
  }

  /** Removes `key`; returns whether it existed. */
  async delete(key: string, options?: StoreCallOptions): Promise<boolean> {
    const k = this.#core.key(key);
    return (await this.#write('delete', k, this.#sql.delete, [k, this.#channel], options?.signal)) !== null;
  }

  /** Keys that start with `prefix`, sorted in UTF-16 code-unit order (an index range scan). */
  async list(prefix = '', options?: StoreCallOptions): Promise<string[]> {
    const p = checkStorePrefix(prefix);
    const upper = p === '' ? undefined : prefixUpperBound(p);
    const [sql, params] = p === '' ? [this.#sql.listAll, []] : upper === undefined ? [this.#sql.listOpen, [p]] : [this.#sql.listRange, [p, upper]];
    const res = await this.#query<{ key: string }>('list', undefined, sql, params, options?.signal);
    // Code-unit order, as the Store interface says (UTF-8 byte order differs above U+FFFF).
    return res.rows.map((r) => r.key).sort();
  }

  /**
   * Calls `listener` with every key written or deleted under `prefix`: at once for this
   * instance's writes, through LISTEN/NOTIFY for other processes' and instances' (while the
   * LISTEN connection is up). Returns the unsubscribe function.
   */
  watch(prefix: string, listener: (key: string) => void): () => void {
    return this.#core.telemetry.watchers.add(prefix, listener);
  }

  async #setupSchema(): Promise<void> {
    const client = await this.#db.pool.connect();
    this.#track(client);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // Concurrent CREATE … IF NOT EXISTS can still collide in the catalog; serialize them.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`converge-store:${this.#table}`]);
      for (const ddl of this.#sql.ddl) await client.query(ddl);
      await client.query('COMMIT');
      const cols = await client.query<{ column_name: string }>(this.#sql.columns, [this.#table]);
      const have = new Set(cols.rows.map((r) => r.column_name));
      const missing = ['key', 'revision', 'value', 'float_paths', 'updated_at'].filter((c) => !have.has(c));
      if (missing.length > 0) {
        throw new StoreError(`table ${this.#table} exists without the columns ${missing.join(', ')}; use another table name`, { code: 'ERR_STORE_SCHEMA' });
      }
    } catch (err) {
      if (isTransient(err)) broken = err as Error;
      else await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async #write(what: string, key: string, sql: string, params: unknown[], signal?: AbortSignal): Promise<number | null> {
    const res = await this.#query<{ revision: string }>(what, key, sql, params, signal);
    const row = res.rows[0];
    if (!row) return null;
    const revision = parseStoredRevision(key, String(row.revision));
    this.#core.telemetry.watchers.emit(key);
    return revision;
  }

  async #query<R extends pg.QueryResultRow>(
    what: string,
    key: string | undefined,
    sql: string,
    params: unknown[],
    signal?: AbortSignal,
  ): Promise<pg.QueryResult<R>> {
    this.#core.checkStarted();
    throwIfAborted(signal);
    try {
      return await this.#core.retry(
        what,
        key,
        async () => {
          const client = await this.#db.pool.connect();
          this.#track(client);
          let broken: Error | undefined;
          try {
            return await client.query<R>(sql, params);
          } catch (err) {
            // A connection that failed mid-query is destroyed, never handed out again.
            if (isTransient(err)) broken = err as Error;
            throw err;
          } finally {
            client.release(broken);
          }
        },
        signal,
      );
    } catch (err) {
      throw this.#core.wrap(err, what, key);
    }
  }

  // Once per pooled connection: an 'error' listener (pg-pool removes its own while a client is
  // checked out, and a connection that dies then would otherwise crash the process; the query
  // gets the error anyway and the pool drops the client on release), and its backend pid.
  #track(client: pg.PoolClient): void {
    if (this.#tracked.has(client)) return;
    this.#tracked.add(client);
    client.on('error', this.#onPoolError);
    const pid = (client as unknown as { processID?: number }).processID;
    if (typeof pid !== 'number') return;
    this.#ownPids.add(pid);
    client.once('end', () => this.#ownPids.delete(pid));
  }
}
