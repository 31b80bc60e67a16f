/**
 * Metric registration as data: a component states its metrics in one table (kind, name, help,
 * labels, buckets) and registers them all through the `Metrics` contract with one call.
 */
import type { HistogramSpec, MetricCounter, MetricGauge, MetricHistogram, MetricSpec, Metrics } from './observability.js';

/** One row of a metric table: the kind of metric and its spec, as `Metrics` takes it. */
export type MetricRow =
  ({ readonly kind: 'counter' } & MetricSpec) | ({ readonly kind: 'gauge' } & MetricSpec) | ({ readonly kind: 'histogram' } & HistogramSpec);

/** A component's metrics by the key it uses for each. */
export type MetricTable = Readonly<Record<string, MetricRow>>;

/** The handle a row's kind registers. */
export type MetricHandle<R extends MetricRow> = R['kind'] extends 'counter' ? MetricCounter : R['kind'] extends 'gauge' ? MetricGauge : MetricHistogram;

/** The handles of a table, by the same keys. */
export type MetricHandles<T extends MetricTable> = { readonly [K in keyof T]: MetricHandle<T[K]> };

/**
 * Registers every row of `table` with `metrics` (in the table's order) and returns the handles
 * by key: `const m = registerMetrics(metrics, { calls: { kind: 'counter', name, help, labelNames } })`.
 */
export function registerMetrics<const T extends MetricTable>(metrics: Metrics, table: T): MetricHandles<T> {
  const handles: Record<string, MetricCounter | MetricGauge | MetricHistogram> = {};
  for (const [key, row] of Object.entries(table)) {
    const { kind, ...spec } = row;
    handles[key] = kind === 'counter' ? metrics.counter(spec) : kind === 'gauge' ? metrics.gauge(spec) : metrics.histogram(spec);
  }
  return handles as MetricHandles<T>;
}
