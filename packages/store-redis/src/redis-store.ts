import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  STORE_BRAND,
  AbortError,
  checkStorePrefix,
  checkStoreRevision,
  ConfigError,
  ConvergeError,
  DEFAULT_MAX_MESSAGE_BYTES,
  positiveIntOption,
  ServerStoreCore,
  storedValueCorrupt,
  StoreError,
  storeRetryDelay,
  throwIfAborted,
  type ServerStoreCoreOptions,
  type ServerStoreKind,
  type Store,
  type StoreCallOptions,
  type StoreEntry,
  type StoreLogger,
  type StoreRetryOptions,
} from '@converge/core';
import { ErrorReply, ReconnectStrategyError } from 'redis';
import { BINARY, closeClient, makeClient, type Client } from './client.js';
import { REDIS_BACKEND } from './retry.js';
import { CAS, DELETE, LIST, PUT, type Script } from './scripts.js';

/** Default server URL. */
export const REDIS_DEFAULT_URL = 'redis://127.0.0.1:6379';
/** Default prefix of every Redis key and channel the store uses. */
export const REDIS_DEFAULT_PREFIX = 'converge:';
/** Default time to establish one connection (ms). */
export const REDIS_DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Default most commands queued while the connection is down (node-redis `commandsQueueMaxLength`). */
export const REDIS_DEFAULT_MAX_QUEUED_COMMANDS = 10_000;
/** Default most index entries one page of `list` reads (and `COUNT` hint of each SCAN step of `reindex`). */
export const REDIS_DEFAULT_SCAN_COUNT = 1000;
/** Default largest encoded value written or read (10 MiB, the codec's own limit). */
export const REDIS_DEFAULT_MAX_VALUE_BYTES = DEFAULT_MAX_MESSAGE_BYTES;
/** Default `CLIENT SETNAME` of the store's connections. */
export const REDIS_DEFAULT_CLIENT_NAME = 'converge-store';

/** Minimal logger (pino-compatible): connection losses and listener errors are logged at `warn`. */
export type RedisStoreLogger = StoreLogger;

/** Counters of one store instance. */
export interface RedisStoreStats {
  /** Operations retried after a transient connection error. */
  retries: number;
  /** Operations that failed with `ERR_STORE_UNAVAILABLE`. */
  unavailable: number;
  /** Records found corrupt (`ERR_STORE_CORRUPT`). */
  corrupt: number;
  /** Exceptions thrown by `watch` listeners. */
  watchErrors: number;
  /** Times a ready connection (commands or change feed) was lost. */
  connectionLost: number;
  /** Change messages received from other instances. */
  notifications: number;
}

/**
 * Options of `RedisStore`. With the shared ones of `ServerStoreCoreOptions`: `maxKeyLength`
 * (default 1024), `maxValueBytes` (default 10 MiB), `logger` (connection losses, listener
 * errors), `metrics`.
 */
export interface RedisStoreOptions extends ServerStoreCoreOptions {
  /** Server URL (default `redis://127.0.0.1:6379`); `rediss://` for TLS, credentials in the URL. */
  url?: string;
  /** Prefix of every key and channel (default `converge:`); put a `{hash tag}` in it for Redis Cluster. */
  prefix?: string;
  /** Time to establish one connection, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Most commands queued while reconnecting (default 10,000); beyond it calls fail at once. */
  maxQueuedCommands?: number;
  /** Retries of transient errors and reconnect attempts (default 5 attempts, 100 ms doubling to 2 s). */
  retry?: StoreRetryOptions;
  /** `CLIENT SETNAME` of the connections (default `converge-store`). */
  clientName?: string;
  /** Whether `start()` subscribes to the change channel that `watch` needs for other instances' writes (default true). */
  listen?: boolean;
  /** Most index entries one page of `list` reads, and the `COUNT` hint of each SCAN step of `reindex` (default 1000). */
  scanCount?: number;
}

const KIND: ServerStoreKind = { name: 'RedisStore', label: 'redis', backend: REDIS_BACKEND, defaultMaxValueBytes: REDIS_DEFAULT_MAX_VALUE_BYTES };

/**
 * A Store in Redis (see the package README for the key layout and guarantees).
 *
 * One hash per key (`value`: msgpack bytes, `revision`, optional `floats`), written only by
 * Lua scripts, so `put`, `putIfAbsent`, `compareAndSet` and `delete` are atomic on the server
 * and `compareAndSet` is exactly-once across processes; revisions come from one `INCR` counter
 * and grow across delete and re-create. Every write PUBLISHes `<origin> <key>` on
 * `<prefix>changes` from inside its script, and `watch` hears other instances' writes through a
 * subscribed duplicate connection (no keyspace-notification server config needed).
 */
export class RedisStore implements Store {
  /** Brand (see `isStore` of `@converge/core`). */
  readonly [STORE_BRAND] = true as const;
  readonly #url: string;
  readonly #prefix: string;
  readonly #keyPrefix: string;
  readonly #counterKey: string;
  readonly #indexKey: string;
  readonly #channel: string;
  readonly #origin = randomBytes(8).toString('hex');
  readonly #core: ServerStoreCore;
  readonly #scanCount: number;
  readonly #listen: boolean;
  readonly #client: Client;
  readonly #subscriber?: Client;
  #connecting: Promise<void> | undefined;

  constructor(options: RedisStoreOptions = {}) {
    this.#url = options.url ?? REDIS_DEFAULT_URL;
    if (typeof this.#url !== 'string' || !/^rediss?:\/\//.test(this.#url)) throw new ConfigError('url must start with redis:// or rediss://', { key: 'url' });
    this.#prefix = options.prefix ?? REDIS_DEFAULT_PREFIX;
    if (typeof this.#prefix !== 'string' || this.#prefix.length > 256)
      throw new ConfigError('prefix must be a string of at most 256 characters', { key: 'prefix' });
    this.#keyPrefix = `${this.#prefix}key:`;
    this.#counterKey = `${this.#prefix}revision`;
    this.#indexKey = `${this.#prefix}index`;
    this.#channel = `${this.#prefix}changes`;
    this.#core = new ServerStoreCore(KIND, options, { prefix: this.#prefix });
    this.#scanCount = positiveIntOption(options.scanCount, REDIS_DEFAULT_SCAN_COUNT, 'scanCount');
    this.#listen = options.listen !== false;
    const name = options.clientName ?? REDIS_DEFAULT_CLIENT_NAME;
    if (!/^[!-~]{1,64}$/.test(name)) throw new ConfigError('clientName must be 1-64 printable ASCII characters without spaces', { key: 'clientName' });
    const connectTimeout = positiveIntOption(options.connectTimeoutMs, REDIS_DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs');
    const queue = positiveIntOption(options.maxQueuedCommands, REDIS_DEFAULT_MAX_QUEUED_COMMANDS, 'maxQueuedCommands');
    // Commands: a bounded number of reconnect attempts, then calls fail with ERR_STORE_UNAVAILABLE
    // (the next call tries to connect again).
    this.#client = makeClient(this.#url, name, connectTimeout, queue, (retries) =>
      retries + 1 >= this.#core.policy.attempts
        ? new Error(`gave up after ${this.#core.policy.attempts} connection attempts`)
        : storeRetryDelay(this.#core.policy, retries),
    );
    this.#client.on('error', (err: unknown) => this.#core.telemetry.warn({ err, prefix: this.#prefix }, 'Redis connection error'));
    this.#countLosses(this.#client);
    if (this.#listen) {
      // The change feed keeps reconnecting while the store runs (capped backoff); node-redis
      // re-subscribes on reconnect. Messages published while it is down are lost.
      this.#subscriber = makeClient(this.#url, name, connectTimeout, queue, (retries) => storeRetryDelay(this.#core.policy, retries));
      this.#subscriber.on('error', (err: unknown) => this.#core.telemetry.warn({ err, channel: this.#channel }, 'Redis subscriber error'));
      this.#countLosses(this.#subscriber);
    }
  }

  /** The prefix of every key and channel in use. */
  get prefix(): string {
    return this.#prefix;
  }

  /** The channel every write is published on. */
  get channel(): string {
    return this.#channel;
  }

  /** A snapshot of this instance's counters. */
  get stats(): RedisStoreStats {
    const counts: RedisStoreStats = this.#core.telemetry.counts;
    return counts;
  }

  /** Whether the change-feed connection is up (false with `listen: false`). */
  get listening(): boolean {
    return this.#subscriber?.isReady ?? false;
  }

  /**
   * Connects (bounded retries: a server unreachable through all of them → `StoreError`
   * `ERR_STORE_UNAVAILABLE`, after which `start()` may be called again) and subscribes to the
   * change channel.
   */
  async start(): Promise<void> {
    if (!this.#core.beginStart()) return;
    try {
      await this.#ensureConnected();
      if (this.#subscriber) {
        const sub = this.#subscriber;
        // The subscriber's first connection uses the same bounded budget as the commands one.
        await this.#core.retry('subscribe', undefined, async () => {
          if (!sub.isOpen) await sub.connect();
        });
        await sub.subscribe(this.#channel, (message: string) => this.#onMessage(message));
      }
    } catch (err) {
      await Promise.all([closeClient(this.#client), this.#subscriber ? closeClient(this.#subscriber) : undefined]);
      throw this.#core.wrap(err, 'start', undefined, describe);
    }
    this.#core.started();
  }

  /** Closes both connections. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#core.stop()) return;
    await Promise.all([closeClient(this.#client), this.#subscriber ? closeClient(this.#subscriber) : undefined]);
  }

  /** The value at `key`, or `undefined`. */
  async get<V = unknown>(key: string, options?: StoreCallOptions): Promise<V | undefined> {
    return (await this.getEntry<V>(key, options))?.value;
  }

  /** The value and revision at `key`, or `undefined`. A malformed record → `ERR_STORE_CORRUPT`. */
  async getEntry<V = unknown>(key: string, options?: StoreCallOptions): Promise<StoreEntry<V> | undefined> {
    const k = this.#core.key(key);
    const reply = await this.#command<Array<Buffer | null>>('get', k, ['HMGET', this.#keyPrefix + k, 'value', 'revision', 'floats'], options?.signal);
    const [value, revision, floats] = reply;
    if (value === null && revision === null) return undefined;
    const raw = { value, revision: revision ? revision.toString('latin1') : '', floats: floats ?? null };
    return this.#core.read<V>(k, raw);
  }

  /** Writes `value` unconditionally; returns the new revision. */
  async put(key: string, value: unknown, options?: StoreCallOptions): Promise<number> {
    const k = this.#core.key(key);
    const v = this.#core.encode(k, value);
    const rev = await this.#script(
      'put',
      k,
      PUT,
      [this.#keyPrefix + k, this.#counterKey, this.#indexKey],
      [v.bytes, v.floats ?? '', this.#channel, this.#message(k), k],
      options?.signal,
    );
    if (typeof rev !== 'number') throw new StoreError(`put of ${JSON.stringify(k)} returned ${inspect(rev)}`, { key: k });
    this.#core.telemetry.watchers.emit(k);
    return rev;
  }

  /** Writes `value` only if `key` has none; returns whether it wrote. */
  async putIfAbsent(key: string, value: unknown, options?: StoreCallOptions): Promise<boolean> {
    return (await this.#cas('putIfAbsent', key, value, 0, options)) !== null;
  }

  /**
   * Writes only if the revision of `key` is `expectedRevision` (`0`: absent); returns the new
   * revision or `null` on conflict. One Lua script, so two processes can never both succeed.
   */
  async compareAndSet(key: string, value: unknown, expectedRevision: number, options?: StoreCallOptions): Promise<number | null> {
    return this.#cas('compareAndSet', key, value, expectedRevision, options);
  }

  /** Removes `key`; returns whether it existed. */
  async delete(key: string, options?: StoreCallOptions): Promise<boolean> {
    const k = this.#core.key(key);
    const n = await this.#script('delete', k, DELETE, [this.#keyPrefix + k, this.#indexKey], [this.#channel, this.#message(k), k], options?.signal);
    if (n === 1) this.#core.telemetry.watchers.emit(k);
    return n === 1;
  }

  /**
   * Keys that start with `prefix`, sorted in UTF-16 code-unit order. Read from the store's key
   * index (`<prefix>index`, a sorted set every write and delete keeps in step in its script) by
   * ZRANGEBYLEX, page by page, so the cost grows with the matching keys, not with the database.
   * An index never built (the keys were written by a version without one) is built first by
   * {@link RedisStore.reindex}; a name whose hash is gone (expired, evicted) is skipped and pruned.
   */
  async list(prefix = '', options?: StoreCallOptions): Promise<string[]> {
    const p = checkStorePrefix(prefix);
    // UTF-8 never holds the byte 0xff: every name starting with p sorts below p + 0xff.
    const max = p === '' ? '+' : Buffer.concat([Buffer.from(`(${p}`, 'utf8'), INDEX_TOP]);
    let min: string | Buffer = p === '' ? '(' : `[${p}`;
    const found: string[] = [];
    for (let built = 0; ;) {
      const reply = await this.#script('list', undefined, LIST, [this.#indexKey], [this.#keyPrefix, min, max, String(this.#scanCount)], options?.signal);
      if (reply === null) {
        // No index yet, or it was deleted under the listing: (re)build it, a bounded number of times.
        if (built++ >= MAX_REINDEX_PER_LIST) throw new StoreError(`the key index ${this.#indexKey} keeps disappearing`, { code: 'ERR_STORE' });
        await this.reindex(options);
        continue;
      }
      const [looked, last, names] = reply as [number, Buffer, Buffer[]];
      for (const n of names) found.push(n.toString('utf8'));
      if (looked < this.#scanCount) break;
      min = Buffer.concat([EXCLUSIVE, last]);
    }
    return found.sort();
  }

  /**
   * Builds the key index from the hashes under the prefix: one SCAN of the whole database (its
   * cost grows with every key in it), adding each name, then the index's '' marker. `list` calls
   * it when the index was never built (data of a version without one); call it yourself after
   * a process of such a version wrote keys under the prefix (it does not index them). Returns
   * the number of keys found.
   */
  async reindex(options?: StoreCallOptions): Promise<number> {
    const match = `${globEscape(this.#keyPrefix)}*`;
    const head = Buffer.from(this.#keyPrefix, 'utf8');
    let cursor = '0';
    let count = 0;
    do {
      const reply = await this.#command<[Buffer, Buffer[]]>(
        'reindex',
        undefined,
        ['SCAN', cursor, 'MATCH', match, 'COUNT', String(this.#scanCount)],
        options?.signal,
      );
      cursor = reply[0].toString('latin1');
      const entries: Array<string | Buffer> = [];
      for (const raw of reply[1]) if (raw.length > head.length && raw.subarray(0, head.length).equals(head)) entries.push('0', raw.subarray(head.length));
      if (entries.length > 0) await this.#command('reindex', undefined, ['ZADD', this.#indexKey, ...entries], options?.signal);
      count += entries.length / 2;
    } while (cursor !== '0');
    await this.#command('reindex', undefined, ['ZADD', this.#indexKey, '0', ''], options?.signal);
    return count;
  }

  /**
   * Calls `listener` with every key written or deleted under `prefix`: at once for this
   * instance's writes, through the change channel for other instances' and processes' (while
   * the subscriber is connected). Returns the unsubscribe function.
   */
  watch(prefix: string, listener: (key: string) => void): () => void {
    return this.#core.telemetry.watchers.add(prefix, listener);
  }

  async #cas(what: string, key: string, value: unknown, expected: number, options?: StoreCallOptions): Promise<number | null> {
    const k = this.#core.key(key);
    checkStoreRevision(expected);
    const v = this.#core.encode(k, value);
    const rev = await this.#script(
      what,
      k,
      CAS,
      [this.#keyPrefix + k, this.#counterKey, this.#indexKey],
      [v.bytes, v.floats ?? '', this.#channel, this.#message(k), k, String(expected)],
      options?.signal,
    );
    if (rev === null) return null;
    if (typeof rev !== 'number') throw new StoreError(`${what} of ${JSON.stringify(k)} returned ${inspect(rev)}`, { key: k });
    this.#core.telemetry.watchers.emit(k);
    return rev;
  }

  // `<origin> <key>`: the origin lets this instance skip its own writes (already emitted).
  #message(key: string): string {
    return `${this.#origin} ${key}`;
  }

  #onMessage(message: string): void {
    const space = message.indexOf(' ');
    if (space < 0 || message.slice(0, space) === this.#origin) return;
    this.#core.telemetry.count('notifications');
    this.#core.telemetry.watchers.emit(message.slice(space + 1));
  }

  async #script(what: string, key: string | undefined, s: Script, keys: string[], args: Array<string | Uint8Array>, signal?: AbortSignal): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map((a) => (typeof a === 'string' ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength)))];
    return this.#command(what, key, ['EVALSHA', s.sha, ...tail], signal, ['EVAL', s.source, ...tail]);
  }

  async #command<T>(
    what: string,
    key: string | undefined,
    args: Array<string | Buffer>,
    signal?: AbortSignal,
    noScriptFallback?: Array<string | Buffer>,
  ): Promise<T> {
    this.#core.checkStarted();
    throwIfAborted(signal);
    try {
      return await this.#core.retry(
        what,
        key,
        async () => {
          await this.#ensureConnected();
          const opts = signal ? { ...BINARY, abortSignal: signal } : BINARY;
          try {
            return (await this.#client.sendCommand(args, opts)) as T;
          } catch (err) {
            // The script cache is empty after a server restart or SCRIPT FLUSH: EVAL loads it.
            if (noScriptFallback && err instanceof ErrorReply && err.message.startsWith('NOSCRIPT')) {
              return (await this.#client.sendCommand(noScriptFallback, opts)) as T;
            }
            throw err;
          }
        },
        signal,
      );
    } catch (err) {
      // A command still queued when the signal fired was never sent.
      if (signal?.aborted && !ConvergeError.is(err)) throw new AbortError('the operation was aborted', { cause: signal.reason });
      if (err instanceof ErrorReply && err.message.includes('WRONGTYPE') && key !== undefined) {
        this.#core.telemetry.count('corrupt');
        throw storedValueCorrupt(key, 'the Redis key is not a hash', err);
      }
      throw this.#core.wrap(err, what, key, describe);
    }
  }

  // Connects when the client is closed: at start, or after the reconnect strategy gave up.
  // A connect that exhausts its attempts is ERR_STORE_UNAVAILABLE at once (no nested retries).
  async #ensureConnected(): Promise<void> {
    if (this.#client.isOpen) return;
    this.#connecting ??= this.#client
      .connect()
      .then(() => undefined)
      .catch((err: unknown) => {
        this.#core.telemetry.count('unavailable');
        throw new StoreError(`Redis unavailable at ${redactUrl(this.#url)}: ${describe(err)}`, { code: 'ERR_STORE_UNAVAILABLE', cause: err });
      })
      .finally(() => {
        this.#connecting = undefined;
      });
    await this.#connecting;
  }

  // One count per loss of a ready connection (not per reconnect attempt).
  #countLosses(client: Client): void {
    let up = false;
    client.on('ready', () => (up = true));
    const lost = (): void => {
      if (!up) return;
      up = false;
      this.#core.telemetry.count('connectionLost');
    };
    client.on('error', lost);
    client.on('reconnecting', lost);
  }
}

/** How many times one `list` builds a missing key index before it gives up. */
const MAX_REINDEX_PER_LIST = 3;
/** The upper bound byte of a ZRANGEBYLEX prefix range (never in UTF-8). */
const INDEX_TOP = Buffer.from([0xff]);
/** The exclusive-bound mark of ZRANGEBYLEX. */
const EXCLUSIVE = Buffer.from('(', 'latin1');

/** Escapes Redis glob metacharacters so that MATCH treats the prefix literally. */
export function globEscape(s: string): string {
  return s.replace(/[\\*?[\]^]/g, '\\$&');
}

function describe(err: unknown): string {
  if (err instanceof ReconnectStrategyError) return `${err.message} (${describe(err.socketError)})`;
  if (err instanceof AggregateError) return err.errors.map(describe).join('; ');
  return (err as Error)?.message ?? String(err);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
