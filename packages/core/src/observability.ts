// The Logger and Metrics contracts every package consumes. `@converge/observability` implements
// them with pino and prom-client; components take them as options and default to the no-ops
// below, so that a package depending on core alone never pulls in a logging or metrics library.

/** Label values of one series; numbers are written as their decimal form. */
export type MetricLabels = Record<string, string | number>;

/** What names a metric: its full name, its help text and its label names. */
export interface MetricSpec {
  /** Full metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`); counters end in `_total`, latencies in `_seconds`. */
  name: string;
  /** One line of help (`# HELP`). */
  help: string;
  /** Names of the labels each series carries (default none). */
  labelNames?: readonly string[];
}

/** A histogram's spec: a `MetricSpec` and its bucket upper bounds. */
export interface HistogramSpec extends MetricSpec {
  /** Bucket upper bounds, strictly increasing (default: the implementation's, for seconds). */
  buckets?: readonly number[];
}

/** A monotonically increasing count. */
export interface MetricCounter {
  /** Adds `value` (default 1, >= 0) to the series named by `labels`. */
  inc(labels?: MetricLabels, value?: number): void;
}

/** A value that goes up and down. */
export interface MetricGauge {
  /** Sets the series named by `labels` to `value`. */
  set(labels: MetricLabels | undefined, value: number): void;
  /** Adds `value` (default 1). */
  inc(labels?: MetricLabels, value?: number): void;
  /** Subtracts `value` (default 1). */
  dec(labels?: MetricLabels, value?: number): void;
}

/** A distribution of observed values. */
export interface MetricHistogram {
  /** Records one observation of `value` in the series named by `labels`. */
  observe(labels: MetricLabels | undefined, value: number): void;
}

/**
 * A factory of metrics: get-or-create by name, so that several components (or several
 * instances of one) can share one `Metrics` and report into the same series. Implemented by
 * `prometheusMetrics()` / `MetricsCollector` of `@converge/observability`; `noopMetrics` is the
 * default of every component.
 */
export interface Metrics {
  /** Gets or creates a counter. */
  counter(spec: MetricSpec): MetricCounter;
  /** Gets or creates a gauge. */
  gauge(spec: MetricSpec): MetricGauge;
  /** Gets or creates a histogram. */
  histogram(spec: HistogramSpec): MetricHistogram;
}

const NOOP_COUNTER: MetricCounter = Object.freeze({ inc: () => {} });
const NOOP_GAUGE: MetricGauge = Object.freeze({ set: () => {}, inc: () => {}, dec: () => {} });
const NOOP_HISTOGRAM: MetricHistogram = Object.freeze({ observe: () => {} });

/** Metrics that record nothing: the default wherever no `metrics` is given. */
export const noopMetrics: Metrics = Object.freeze({
  counter: () => NOOP_COUNTER,
  gauge: () => NOOP_GAUGE,
  histogram: () => NOOP_HISTOGRAM,
});

/**
 * One log method: a structured object (merged into the line) and an optional message. pino's
 * methods fit as they are.
 */
export type LogMethod = (obj: object, msg?: string) => void;

/**
 * The logging contract: the subset of pino the packages use. A pino logger (`pinoLogger()` of
 * `@converge/observability`) fits as it is; `noopLogger` is the default.
 */
export interface Logger {
  /** Finest detail. */
  trace: LogMethod;
  /** Decisions, state changes: what `-v` / `--log-level debug` shows. */
  debug: LogMethod;
  /** Notable events. */
  info: LogMethod;
  /** Refusals and recoverable faults (each counted too). */
  warn: LogMethod;
  /** Failures. */
  error: LogMethod;
  /** Failures that stop the process. */
  fatal: LogMethod;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether lines of `level` are written (callers skip building costly lines otherwise). */
  isLevelEnabled?(level: string): boolean;
}

const noop: LogMethod = () => {};

/** A logger that writes nothing: the default wherever no `logger` is given. */
export const noopLogger: Logger = Object.freeze({
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: (): Logger => noopLogger,
  isLevelEnabled: () => false,
});

/**
 * The payload key under which a message carries its W3C trace context:
 * `payload._trace = { traceparent, tracestate? }`. It is written before signing, so the
 * signature covers it; peers that do not trace (the Python reference) ignore the extra key.
 */
export const TRACE_KEY = '_trace';

/**
 * An opaque trace context (the parent of a span), as a tracing implementation hands it out.
 * Shaped like OpenTelemetry's `Context`, so `@converge/observability`'s contexts fit as they are.
 */
export interface TraceContext {
  /** The value stored under `key`, if any. */
  getValue(key: symbol): unknown;
  /** A new context with `value` under `key`. */
  setValue(key: symbol, value: unknown): TraceContext;
  /** A new context without `key`. */
  deleteValue(key: symbol): TraceContext;
}
