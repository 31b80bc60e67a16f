/**
 * The counters, warnings and watchers a server-backed store keeps: one copy for the PostgreSQL
 * and Redis stores, which report the same series under their own `store` label.
 */
import { KeyWatchers } from './key-watchers.js';
import type { StoreRetryHooks } from './retry.js';

/** Minimal logger of a server-backed store (pino-compatible): its faults are logged at `warn`. */
export interface StoreLogger {
  /** Logs a recoverable fault (a lost connection, a retried operation, a throwing listener). */
  warn(obj: object, msg?: string): void;
}

/**
 * Where a server-backed store reports its counters: any object with a get-or-create `counter`
 * (the `MetricsCollector` of `@converge/observability` fits). Every series has the label `store`.
 */
export interface StoreMetricsSink {
  /** Gets or creates the counter `name`. */
  counter(name: string, help: string, labelNames?: string[]): { inc(labels?: Record<string, string | number>, value?: number): void };
}

/** What a store counts that is also a metric series. */
export type StoreCounterName = 'retries' | 'unavailable' | 'corrupt' | 'watchErrors' | 'connectionLost';

/** Every count a store keeps: the metric ones and `notifications` (changes heard from other processes). */
export type StoreCounts = Record<StoreCounterName | 'notifications', number>;

const SERIES: Record<StoreCounterName, [name: string, help: string]> = {
  retries: ['converge_store_retries_total', 'Store operations retried after a transient connection error'],
  unavailable: ['converge_store_unavailable_total', 'Store operations failed with ERR_STORE_UNAVAILABLE'],
  corrupt: ['converge_store_corrupt_records_total', 'Store records found corrupt'],
  watchErrors: ['converge_store_watch_listener_errors_total', 'Exceptions thrown by store watch listeners'],
  connectionLost: ['converge_store_watch_connection_lost_total', 'Times the store change-feed connection was lost'],
};

/** Options of `StoreTelemetry`. */
export interface StoreTelemetryOptions {
  /** Value of the `store` label (`postgres`, `redis`). */
  store: string;
  /** Backend name in the retry warning (`PostgreSQL operation failed, retrying`). */
  backend: string;
  /** Fields added to the retry warning (e.g. `{ table }`). */
  context?: Record<string, unknown>;
  /** Where warnings go (none: not logged, still counted). */
  logger?: StoreLogger;
  /** Where counters go (none: only `counts`). */
  metrics?: StoreMetricsSink;
}

/**
 * A store's counts and their metric series, its prefix watchers (a throwing listener is counted
 * as `watchErrors` and logged) and the retry hooks of `withStoreRetry` (each retry counted and
 * logged, each give-up counted as `unavailable`).
 */
export class StoreTelemetry {
  /** The store's `watch` listeners. */
  readonly watchers: KeyWatchers;
  /** Hooks to pass to `withStoreRetry`. */
  readonly hooks: StoreRetryHooks;
  readonly #labels: { store: string };
  readonly #logger?: StoreLogger;
  readonly #counters: Partial<Record<StoreCounterName, { inc(labels?: Record<string, string | number>, value?: number): void }>> = {};
  readonly #counts: StoreCounts = { retries: 0, unavailable: 0, corrupt: 0, watchErrors: 0, connectionLost: 0, notifications: 0 };

  /** Creates the counter series on `options.metrics` at once. */
  constructor(options: StoreTelemetryOptions) {
    this.#labels = { store: options.store };
    this.#logger = options.logger;
    const m = options.metrics;
    if (m) for (const [name, [metric, help]] of Object.entries(SERIES)) this.#counters[name as StoreCounterName] = m.counter(metric, help, ['store']);
    this.watchers = new KeyWatchers((err, key) => {
      this.count('watchErrors');
      this.warn({ err, key }, 'store watch listener threw');
    });
    this.hooks = {
      onRetry: (err, attempt) => {
        this.count('retries');
        this.warn({ err, attempt, ...options.context }, `${options.backend} operation failed, retrying`);
      },
      onUnavailable: () => this.count('unavailable'),
    };
  }

  /** A snapshot of the counts. */
  get counts(): StoreCounts {
    return { ...this.#counts };
  }

  /** Adds one to `name` (and to its series, but for `notifications`). */
  count(name: StoreCounterName | 'notifications'): void {
    this.#counts[name]++;
    if (name !== 'notifications') this.#counters[name]?.inc(this.#labels);
  }

  /** Logs at `warn` when a logger was given. */
  warn(obj: object, msg: string): void {
    this.#logger?.warn(obj, msg);
  }
}
