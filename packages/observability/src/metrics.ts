import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ConfigError, ValidationError, type HistogramSpec, type MetricSpec, type Metrics } from '@converge/core';

/** Label values of one series; numbers are written as their decimal form. */
export type Labels = Record<string, string | number>;

/** A monotonically increasing count. */
export interface CounterHandle {
  /** Adds `value` (default 1, must be >= 0 and finite) to the series named by `labels`. */
  inc(labels?: Labels, value?: number): void;
  /** The current value of the series named by `labels` (0 if it has never been touched). */
  get(labels?: Labels): number;
}

/** A value that goes up and down. */
export interface GaugeHandle {
  /** Sets the series named by `labels` to `value`. */
  set(labels: Labels | undefined, value: number): void;
  /** Adds `value` (default 1). */
  inc(labels?: Labels, value?: number): void;
  /** Subtracts `value` (default 1). */
  dec(labels?: Labels, value?: number): void;
  /** The current value of the series named by `labels` (0 if never set). */
  get(labels?: Labels): number;
}

/** A distribution of observed values in cumulative buckets. */
export interface HistogramHandle {
  /** Records one observation of `value` in the series named by `labels`. */
  observe(labels: Labels | undefined, value: number): void;
  /** Count and sum of the observations of the series named by `labels` (zeros if none). */
  get(labels?: Labels): { count: number; sum: number };
}

/** Options of `MetricsCollector`. */
export interface MetricsCollectorOptions {
  /** Prepended to every metric name (e.g. `myapp_`); default none. */
  prefix?: string;
  /** The prom-client registry to register in; a new one is created by default (never the global one). */
  registry?: Registry;
  /** Labels added to every series of the registry (set on the registry). */
  defaultLabels?: Record<string, string>;
}

/**
 * The default histogram buckets, in seconds (prom-client's defaults: 5 ms to 10 s), for
 * latencies measured in seconds as Prometheus recommends.
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Kind = 'counter' | 'gauge' | 'histogram';

/** What `MetricsCollector.describe()` lists for each metric registered through it. */
export interface MetricDescription {
  /** Full name (prefix included). */
  name: string;
  kind: Kind;
  help: string;
  /** Label names, in registration order. */
  labelNames: readonly string[];
  /** Histogram bucket bounds (histograms only). */
  buckets?: readonly number[];
}

interface Entry {
  kind: Kind;
  help: string;
  labelNames: readonly string[];
  buckets: readonly number[] | undefined;
  labelKey: string;
  bucketKey: string;
  handle: CounterHandle | GaugeHandle | HistogramHandle;
}

// prom-client keeps one record per series in `hashMap`; reading it is the only synchronous way
// to get a value (its `get()` is async). prom-client is pinned to ^15, whose layout this is.
interface SeriesRecord {
  labels: Labels;
  value?: number;
  count?: number;
  sum?: number;
}
function findSeries(metric: unknown, labels: Labels | undefined): SeriesRecord | undefined {
  const map = (metric as { hashMap: Record<string, SeriesRecord> }).hashMap;
  const want = labels ?? {};
  const wantKeys = Object.keys(want);
  for (const key in map) {
    const rec = map[key]!;
    const got = rec.labels ?? {};
    const gotKeys = Object.keys(got);
    if (gotKeys.length !== wantKeys.length) continue;
    if (wantKeys.every((k) => String(got[k]) === String(want[k]))) return rec;
  }
  return undefined;
}

// prom-client throws plain `Error`s for unknown labels or bad values; callers get a typed one.
function guard(name: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw new ValidationError(`metric ${name}: ${(err as Error).message}`, { cause: err });
  }
}

// The `inc`/`dec` of a handle: `value` defaults to 1, and a refused update is reported by `guard`.
function stepper(fullName: string, step: (labels: Labels | undefined, value: number) => void): (labels?: Labels, value?: number) => void {
  return (labels, value) => guard(fullName, () => step(labels, value ?? 1));
}

// The `inc` and `get` a counter's and a gauge's handles share.
function countingHandle(metric: Counter | Gauge, fullName: string): CounterHandle {
  return {
    inc: stepper(fullName, (l, v) => (l === undefined ? metric.inc(v) : metric.inc(l, v))),
    get: (l?: Labels) => findSeries(metric, l)?.value ?? 0,
  };
}

/**
 * Counters, gauges and histograms in an explicit prom-client `Registry`, exposed as Prometheus
 * text. `counter`/`gauge`/`histogram` are get-or-create: the same name with the same type and
 * labels returns the same handle (so several components can share one collector); a different
 * type, label set or bucket set under a name already taken is a `ConfigError`.
 *
 * Implements core's `Metrics` contract: each method also takes a spec
 * (`{ name, help, labelNames, buckets }`), which is how the components call it.
 */
export class MetricsCollector implements Metrics {
  /** The registry holding every metric of this collector. */
  readonly registry: Registry;
  readonly #prefix: string;
  readonly #entries = new Map<string, Entry>();

  constructor(options: MetricsCollectorOptions = {}) {
    this.#prefix = options.prefix ?? '';
    if (this.#prefix !== '' && !METRIC_NAME.test(this.#prefix)) {
      throw new ConfigError(`invalid metric prefix ${JSON.stringify(this.#prefix)}`, { key: 'prefix' });
    }
    this.registry = options.registry ?? new Registry();
    if (options.defaultLabels) {
      for (const name of Object.keys(options.defaultLabels)) checkLabelName(name, 'defaultLabels');
      this.registry.setDefaultLabels(options.defaultLabels);
    }
  }

  /** Gets or creates a counter. Names should end in `_total`. */
  counter(spec: MetricSpec): CounterHandle;
  counter(name: string, help: string, labelNames?: string[]): CounterHandle;
  counter(nameOrSpec: string | MetricSpec, helpText?: string, labelList?: string[]): CounterHandle {
    return this.#plain('counter', specOf(nameOrSpec, helpText, labelList), (config, fullName) => countingHandle(new Counter(config), fullName));
  }

  /** Gets or creates a gauge. */
  gauge(spec: MetricSpec): GaugeHandle;
  gauge(name: string, help: string, labelNames?: string[]): GaugeHandle;
  gauge(nameOrSpec: string | MetricSpec, helpText?: string, labelList?: string[]): GaugeHandle {
    return this.#plain('gauge', specOf(nameOrSpec, helpText, labelList), (config, fullName) => {
      const metric = new Gauge(config);
      return {
        ...countingHandle(metric, fullName),
        set: (l: Labels | undefined, value: number) => guard(fullName, () => (l === undefined ? metric.set(value) : metric.set(l, value))),
        dec: stepper(fullName, (l, v) => (l === undefined ? metric.dec(v) : metric.dec(l, v))),
      } satisfies GaugeHandle;
    });
  }

  /** Gets or creates a histogram; `buckets` default to `DEFAULT_BUCKETS` (seconds). */
  histogram(spec: HistogramSpec): HistogramHandle;
  histogram(name: string, help: string, labelNames?: string[], buckets?: number[]): HistogramHandle;
  histogram(nameOrSpec: string | HistogramSpec, helpText?: string, labelList?: string[], bucketList?: number[]): HistogramHandle {
    const { name, help, labelNames } = specOf(nameOrSpec, helpText, labelList);
    const buckets = typeof nameOrSpec === 'string' ? bucketList : nameOrSpec.buckets;
    const b = [...(buckets ?? DEFAULT_BUCKETS)];
    if (b.length === 0 || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x <= b[i - 1]!))) {
      throw new ConfigError(`histogram ${name}: buckets must be finite and strictly increasing`, { key: 'buckets' });
    }
    if (labelNames.includes('le')) throw new ConfigError(`histogram ${name}: "le" is a reserved label name`, { key: name });
    return this.#getOrCreate('histogram', name, help, labelNames, b, (fullName, labels) => {
      const metric = new Histogram({ name: fullName, help, labelNames: labels, buckets: b, registers: [this.registry] });
      return {
        observe: (l: Labels | undefined, value: number) => guard(fullName, () => (l === undefined ? metric.observe(value) : metric.observe(l, value))),
        get: (l?: Labels) => {
          const rec = findSeries(metric, l);
          return { count: rec?.count ?? 0, sum: rec?.sum ?? 0 };
        },
      } satisfies HistogramHandle;
    }) as HistogramHandle;
  }

  /** Every metric registered through this collector, sorted by name (what docs/METRICS.md is generated from). */
  describe(): MetricDescription[] {
    const out: MetricDescription[] = [];
    for (const [name, e] of this.#entries) {
      out.push({ name, kind: e.kind, help: e.help, labelNames: e.labelNames, ...(e.buckets ? { buckets: e.buckets } : {}) });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The Prometheus text exposition of every metric in the registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `metrics()` (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  // A counter or a gauge (no buckets): `make` builds the prom-client metric from its config, and its handle.
  #plain<H extends Entry['handle']>(
    kind: 'counter' | 'gauge',
    spec: { name: string; help: string; labelNames: string[] },
    make: (config: { name: string; help: string; labelNames: string[]; registers: Registry[] }, fullName: string) => H,
  ): H {
    const { name, help, labelNames } = spec;
    return this.#getOrCreate(kind, name, help, labelNames, undefined, (fullName, labels) =>
      make({ name: fullName, help, labelNames: labels, registers: [this.registry] }, fullName),
    ) as H;
  }

  #getOrCreate(
    kind: Kind,
    name: string,
    help: string,
    labelNames: string[],
    buckets: number[] | undefined,
    create: (fullName: string, labelNames: string[]) => Entry['handle'],
  ): Entry['handle'] {
    const fullName = this.#prefix + name;
    if (typeof name !== 'string' || !METRIC_NAME.test(fullName)) {
      throw new ConfigError(`invalid metric name ${JSON.stringify(fullName)}`, { key: name });
    }
    if (typeof help !== 'string' || help === '') throw new ConfigError(`metric ${fullName} needs a help text`, { key: name });
    for (const l of labelNames) checkLabelName(l, fullName);
    if (new Set(labelNames).size !== labelNames.length) throw new ConfigError(`metric ${fullName}: duplicate label names`, { key: name });
    const labelKey = [...labelNames].sort().join(',');
    const bucketKey = buckets ? buckets.join(',') : '';
    const existing = this.#entries.get(fullName);
    if (existing) {
      if (existing.kind !== kind || existing.labelKey !== labelKey || existing.bucketKey !== bucketKey) {
        throw new ConfigError(
          `metric ${fullName} is already registered as a ${existing.kind} with labels [${existing.labelKey}]` +
            (existing.bucketKey ? ` and buckets [${existing.bucketKey}]` : ''),
          { key: name },
        );
      }
      return existing.handle;
    }
    if (this.registry.getSingleMetric(fullName)) {
      throw new ConfigError(`metric ${fullName} is already registered in the registry by another owner`, { key: name });
    }
    const handle = create(fullName, [...labelNames]);
    this.#entries.set(fullName, {
      kind,
      help,
      labelNames: Object.freeze([...labelNames]),
      buckets: buckets ? Object.freeze([...buckets]) : undefined,
      labelKey,
      bucketKey,
      handle,
    });
    return handle;
  }
}

function checkLabelName(label: string, where: string): void {
  if (typeof label !== 'string' || !LABEL_NAME.test(label) || label.startsWith('__')) {
    throw new ConfigError(`${where}: invalid label name ${JSON.stringify(label)}`, { key: label });
  }
}

function specOf(
  nameOrSpec: string | MetricSpec,
  help: string | undefined,
  labelNames: string[] | undefined,
): { name: string; help: string; labelNames: string[] } {
  if (typeof nameOrSpec === 'string') return { name: nameOrSpec, help: help as string, labelNames: labelNames ?? [] };
  if (nameOrSpec === null || typeof nameOrSpec !== 'object') throw new ConfigError('a metric needs a name or a spec', { key: 'name' });
  return { name: nameOrSpec.name, help: nameOrSpec.help, labelNames: [...(nameOrSpec.labelNames ?? [])] };
}

/**
 * The Prometheus implementation of core's `Metrics` contract: a `MetricsCollector` on
 * `registry` (a new one by default, never prom-client's global registry).
 */
export function prometheusMetrics(registry?: Registry): MetricsCollector {
  return new MetricsCollector(registry ? { registry } : {});
}
