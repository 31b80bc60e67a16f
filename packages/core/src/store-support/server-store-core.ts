/**
 * What the server-backed stores (PostgreSQL, Redis) do the same way around their driver calls:
 * limits, key and value checks, the new → started → stopped life cycle, bounded retries and
 * the wrapping of driver errors into `StoreError`.
 */
import { ConvergeError, NotStartedError, StoreError } from '../errors.js';
import { positiveIntOption } from '../options.js';
import type { StoreEntry } from '../store.js';
import { resolveStoreRetry, withStoreRetry, type StoreRetryBackend, type StoreRetryOptions, type StoreRetryPolicy } from './retry.js';
import { checkStoreKey, STORE_DEFAULT_MAX_KEY_LENGTH } from './store-keys.js';
import { encodeStoredValue, type EncodedStoredValue } from './store-values.js';
import { readStoredEntry, type RawStoredEntry } from './stored-entry.js';
import { StoreTelemetry, type StoreLogger, type StoreMetricsSink } from './store-telemetry.js';

/** Who a server-backed store is, for `ServerStoreCore`. */
export interface ServerStoreKind {
  /** Class name in `NotStartedError` messages (`PostgresStore`). */
  name: string;
  /** Value of the `store` metric label (`postgres`). */
  label: string;
  /** The driver's name and transient errors. */
  backend: StoreRetryBackend;
  /** Default of `maxValueBytes`. */
  defaultMaxValueBytes: number;
}

/** The options every server-backed store takes and `ServerStoreCore` reads. */
export interface ServerStoreCoreOptions {
  /** Retries of transient errors. */
  retry?: StoreRetryOptions;
  /** Longest key, UTF-16 code units (default `STORE_DEFAULT_MAX_KEY_LENGTH`). */
  maxKeyLength?: number;
  /** Largest encoded value written or read, bytes (default: the kind's). */
  maxValueBytes?: number;
  /** Where warnings go. */
  logger?: StoreLogger;
  /** Where counters go. */
  metrics?: StoreMetricsSink;
}

/**
 * The shared part of a server-backed store, held by it as a private field: options are checked
 * in the constructor (`ConfigError`), every operation goes through `key`, `encode`/`read`,
 * `checkStarted` and `retry`, and `wrap` turns what a driver threw into a `StoreError`.
 */
export class ServerStoreCore {
  /** Counts, watchers and retry hooks. */
  readonly telemetry: StoreTelemetry;
  /** Resolved retry settings. */
  readonly policy: StoreRetryPolicy;
  /** Longest key, UTF-16 code units. */
  readonly maxKeyLength: number;
  /** Largest encoded value written or read, bytes. */
  readonly maxValueBytes: number;
  readonly #name: string;
  readonly #backend: StoreRetryBackend;
  #state: 'new' | 'started' | 'stopped' = 'new';

  /**
   * Checks the limits and the retry policy of `options`; throws `ConfigError` for a bad one.
   * `context` adds fields to the retry warning (e.g. `{ table }`).
   */
  constructor(kind: ServerStoreKind, options: ServerStoreCoreOptions, context?: Record<string, unknown>) {
    this.#name = kind.name;
    this.#backend = kind.backend;
    this.policy = resolveStoreRetry(options.retry);
    this.maxKeyLength = positiveIntOption(options.maxKeyLength, STORE_DEFAULT_MAX_KEY_LENGTH, 'maxKeyLength');
    this.maxValueBytes = positiveIntOption(options.maxValueBytes, kind.defaultMaxValueBytes, 'maxValueBytes');
    this.telemetry = new StoreTelemetry({ store: kind.label, backend: kind.backend.name, context, logger: options.logger, metrics: options.metrics });
  }

  /** `'new'`, `'started'` or `'stopped'`. */
  get state(): 'new' | 'started' | 'stopped' {
    return this.#state;
  }

  /** Whether `start()` has anything to do: false when started; a stopped store → `NotStartedError`. */
  beginStart(): boolean {
    if (this.#state === 'stopped') throw new NotStartedError(`a stopped ${this.#name} cannot be restarted; create a new one`);
    return this.#state === 'new';
  }

  /** Marks the store started. */
  started(): void {
    this.#state = 'started';
  }

  /** Marks the store stopped and drops its watchers; false when it was stopped already. */
  stop(): boolean {
    if (this.#state === 'stopped') return false;
    this.#state = 'stopped';
    this.telemetry.watchers.clear();
    return true;
  }

  /** Throws `NotStartedError` unless the store is started. */
  checkStarted(): void {
    if (this.#state !== 'started') throw new NotStartedError(`${this.#name} is ${this.#state === 'new' ? 'not started' : 'stopped'}`);
  }

  /** Checks `key` against the store's limit. */
  key(key: string): string {
    return checkStoreKey(key, this.maxKeyLength);
  }

  /** Encodes `value` for `key` within the store's value limit. */
  encode(key: string, value: unknown): EncodedStoredValue {
    return encodeStoredValue(key, value, this.maxValueBytes);
  }

  /** Decodes the stored record of `key`; a corrupt one is counted and → `ERR_STORE_CORRUPT`. */
  read<V>(key: string, raw: RawStoredEntry): StoreEntry<V> {
    return readStoredEntry<V>(key, raw, this.maxValueBytes, () => this.telemetry.count('corrupt'));
  }

  /** Runs `op` with the store's bounded retries of transient errors (each counted and logged). */
  retry<T>(what: string, key: string | undefined, op: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withStoreRetry(this.#backend, this.policy, what, key, op, this.telemetry.hooks, signal);
  }

  /** A Converge error as it is; anything else as `StoreError` "`<backend> <what> failed: …`". */
  wrap(err: unknown, what: string, key: string | undefined, describe: (err: unknown) => string = (e) => (e as Error)?.message ?? String(e)): Error {
    if (ConvergeError.is(err)) return err;
    return new StoreError(`${this.#backend.name} ${what} failed: ${describe(err)}`, { key, cause: err });
  }
}
