import type { Attributes, Context, Span, SpanContext, SpanKind, TextMapPropagator, Tracer } from '@opentelemetry/api';
import { TRACE_KEY, type Message, type MessageInit, type WireValue } from '@converge/core';
import { loadOtelApi, type OtelApiModule } from './otel-loader.js';

export type { Context as TraceContext, Span, Tracer } from '@opentelemetry/api';

// The payload key is a contract of the wire (core's); re-exported here for existing callers.
export { TRACE_KEY } from '@converge/core';

/** The largest `tracestate` carried (characters); a longer one is dropped (W3C's 512 minimum). */
export const MAX_TRACESTATE_LENGTH = 512;

/** A text map holding W3C trace context headers. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** Options of `createTracing`. */
export interface TracingOptions {
  /** The tracer spans are started with; default `trace.getTracer('@converge/observability')`. */
  tracer?: Tracer;
  /**
   * A propagator for inject/extract (e.g. `W3CTraceContextPropagator` from `@opentelemetry/core`);
   * by default a built-in W3C trace-context codec, so `@opentelemetry/core` is not needed.
   */
  propagator?: TextMapPropagator;
  /**
   * The API module (for bundles that cannot `require` it); loaded with `require` when omitted,
   * `null` turns tracing off (what happens when the API is not installed).
   */
  api?: OtelApiModule | null;
}

/** Options of one `withSpan` call. */
export interface SpanOptions {
  /** Parent context (e.g. `traceContextOf(message)`); default the active context. */
  parent?: Context;
  /** Span kind (`SpanKind.CONSUMER`, …); default internal. */
  kind?: SpanKind;
}

/** Tracing helpers bound to one tracer; every method is a no-op when the API is not installed. */
export interface Tracing {
  /** Whether `@opentelemetry/api` was found. */
  readonly enabled: boolean;
  /**
   * Runs `fn` inside a new active span named `name`; the span records an exception and an
   * error status if `fn` throws or rejects, and always ends.
   */
  withSpan<T>(name: string, attributes: Attributes, fn: (span: Span | undefined) => T | Promise<T>, options?: SpanOptions): Promise<T>;
  /** Writes `traceparent`/`tracestate` of `ctx` (default the active context) into `carrier`. */
  injectTraceContext<C extends TraceCarrier>(carrier: C, ctx?: Context): C;
  /** The context described by a carrier or by a message's `payload._trace` (the active one if none). */
  extractTraceContext(source: Message | TraceCarrier): Context;
  /** `init` with the active (or given) trace context added to a map payload under `_trace`. */
  attachTraceContext(init: MessageInit, ctx?: Context): MessageInit;
  /** The trace context a message carries, as a parent for the receiver's spans. */
  traceContextOf(message: Message): Context;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

// Reads the `_trace` entry of a payload (plain object or Map) as a carrier; anything else is none.
function carrierOf(payload: WireValue): TraceCarrier | undefined {
  let t: unknown;
  if (payload instanceof Map) t = payload.get(TRACE_KEY);
  else if (payload !== null && typeof payload === 'object' && !Array.isArray(payload) && !(payload instanceof Uint8Array)) {
    t = Object.prototype.hasOwnProperty.call(payload, TRACE_KEY) ? (payload as Record<string, unknown>)[TRACE_KEY] : undefined;
  }
  if (t instanceof Map) t = Object.fromEntries(t);
  if (t === null || typeof t !== 'object') return undefined;
  const { traceparent, tracestate } = t as Record<string, unknown>;
  if (typeof traceparent !== 'string') return undefined;
  return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
}

function isMessage(x: Message | TraceCarrier): x is Message {
  return typeof (x as Message).id === 'string' && 'payload' in x && 'signature' in x;
}

// A Context for when the API is absent: holds values, as the interface requires, but nothing reads them.
class DetachedContext implements Context {
  readonly #values: Map<symbol, unknown>;
  constructor(values = new Map<symbol, unknown>()) {
    this.#values = values;
  }
  getValue(key: symbol): unknown {
    return this.#values.get(key);
  }
  setValue(key: symbol, value: unknown): Context {
    return new DetachedContext(new Map(this.#values).set(key, value));
  }
  deleteValue(key: symbol): Context {
    const m = new Map(this.#values);
    m.delete(key);
    return new DetachedContext(m);
  }
}

/**
 * Creates tracing helpers on `@opentelemetry/api`. Without a tracer provider registered by the
 * application, the API's own no-op tracer is used; without the API installed at all, every
 * helper is a no-op (spans are `undefined`, messages are left unchanged).
 */
export function createTracing(options: TracingOptions = {}): Tracing {
  const api = options.api === undefined ? loadOtelApi() : options.api;
  if (!api) return noopTracing();
  const tracer = options.tracer ?? api.trace.getTracer('@converge/observability');
  const propagator = options.propagator;
  const inject = <C extends TraceCarrier>(carrier: C, ctx: Context = api.context.active()): C => {
    if (!propagator) return injectW3C(api, carrier, ctx);
    propagator.inject(ctx, carrier, api.defaultTextMapSetter);
    return carrier;
  };
  const extractCarrier = (carrier: TraceCarrier | undefined): Context => {
    const base = api.context.active();
    if (!carrier) return base;
    if (propagator) return propagator.extract(base, carrier, api.defaultTextMapGetter);
    return extractW3C(api, base, carrier);
  };
  const traceContextOf = (message: Message): Context => extractCarrier(carrierOf(message.payload));

  return {
    enabled: true,
    withSpan: (name, attributes, fn, opts = {}) => runInSpan(api, tracer, name, attributes, fn, opts),
    injectTraceContext: inject,
    extractTraceContext: (source) => (isMessage(source) ? traceContextOf(source) : extractCarrier(source)),
    attachTraceContext(init: MessageInit, ctx?: Context): MessageInit {
      const carrier = inject({} as TraceCarrier, ctx);
      if (carrier.traceparent === undefined) return init;
      const trace: Record<string, WireValue> = { traceparent: carrier.traceparent };
      if (carrier.tracestate !== undefined) trace.tracestate = carrier.tracestate;
      return withTrace(init, trace);
    },
    traceContextOf,
  };
}

/** Runs `fn` in an active span that records a thrown error (status ERROR) and always ends. */
function runInSpan<T>(
  api: OtelApiModule,
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => T | Promise<T>,
  opts: SpanOptions,
): Promise<T> {
  const parent = opts.parent ?? api.context.active();
  const spanOpts = opts.kind === undefined ? { attributes } : { attributes, kind: opts.kind };
  return tracer.startActiveSpan(name, spanOpts, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** W3C trace context without a propagator: `traceparent` (and `tracestate`) of `ctx`'s span, if valid. */
function injectW3C<C extends TraceCarrier>(api: OtelApiModule, carrier: C, ctx: Context): C {
  const sc = api.trace.getSpanContext(ctx);
  if (!sc || !api.isSpanContextValid(sc)) return carrier;
  carrier.traceparent = `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const state = sc.traceState?.serialize();
  if (state) carrier.tracestate = state;
  return carrier;
}

/** `base` with the remote span context of a W3C `traceparent`; `base` itself when it is malformed. */
function extractW3C(api: OtelApiModule, base: Context, carrier: TraceCarrier): Context {
  const m = TRACEPARENT.exec(carrier.traceparent ?? '');
  // Version ff is forbidden; version 00 has exactly four fields; ids must not be all zero.
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined) || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return base;
  const sc: SpanContext = { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16) & 0x01, isRemote: true };
  const state = carrier.tracestate;
  if (typeof state === 'string' && state.length > 0 && state.length <= MAX_TRACESTATE_LENGTH) {
    sc.traceState = api.createTraceState(state);
  }
  return api.trace.setSpanContext(base, sc);
}

/** `init` with `trace` under `TRACE_KEY` of its payload, when the payload is a map or plain object. */
function withTrace(init: MessageInit, trace: Record<string, WireValue>): MessageInit {
  const payload = init.payload === undefined ? {} : init.payload;
  if (payload instanceof Map) return { ...init, payload: new Map(payload).set(TRACE_KEY, trace) };
  if (
    payload !== null &&
    typeof payload === 'object' &&
    !Array.isArray(payload) &&
    !(payload instanceof Uint8Array) &&
    Object.getPrototypeOf(payload) === Object.prototype
  ) {
    return { ...init, payload: { ...(payload as Record<string, WireValue>), [TRACE_KEY]: trace } };
  }
  // Strings, lists, bytes and Float64 payloads have nowhere to carry a key: sent untraced.
  return init;
}

function noopTracing(): Tracing {
  const empty = new DetachedContext();
  return {
    enabled: false,
    async withSpan<T>(_name: string, _attributes: Attributes, fn: (span: Span | undefined) => T | Promise<T>): Promise<T> {
      return await fn(undefined);
    },
    injectTraceContext: (carrier) => carrier,
    extractTraceContext: () => empty,
    attachTraceContext: (init) => init,
    traceContextOf: () => empty,
  };
}

let defaultTracing: Tracing | undefined;
// The helpers below use the application's globally registered OpenTelemetry setup (the API's
// own process-wide registry); the cached object holds no state of ours.
function tracing(): Tracing {
  return (defaultTracing ??= createTracing());
}

/** `createTracing().withSpan` on the globally registered tracer provider (a `SpanRunner` for the runtime). */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span | undefined) => T | Promise<T>, options?: SpanOptions): Promise<T> {
  return tracing().withSpan(name, attributes, fn, options);
}

/** `createTracing().injectTraceContext` with the global OpenTelemetry setup. */
export function injectTraceContext<C extends TraceCarrier>(carrier: C, ctx?: Context): C {
  return tracing().injectTraceContext(carrier, ctx);
}

/** `createTracing().extractTraceContext` with the global OpenTelemetry setup. */
export function extractTraceContext(source: Message | TraceCarrier): Context {
  return tracing().extractTraceContext(source);
}

/** `createTracing().attachTraceContext`: adds the active trace context to a map payload, before signing. */
export function attachTraceContext(init: MessageInit, ctx?: Context): MessageInit {
  return tracing().attachTraceContext(init, ctx);
}

/** `createTracing().traceContextOf`: the trace context a message carries. */
export function traceContextOf(message: Message): Context {
  return tracing().traceContextOf(message);
}
