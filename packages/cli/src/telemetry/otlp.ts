import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError } from '@converge/core';
import { createTracing, type Tracing } from '@converge/observability';

/** How long `close()` waits for the last spans to reach the collector (5 s). */
export const OTLP_FLUSH_TIMEOUT_MS = 5_000;
/** Most spans queued for export before new ones are dropped (the SDK's own count): 8,192. */
export const OTLP_MAX_QUEUE = 8_192;

/** Span export to an OTLP/HTTP collector for `--otlp URL`. */
export interface OtlpTracing {
  /** Tracing helpers bound to the exporting tracer (a `SpanRunner` and a `TraceContextPort` for the runtime). */
  tracing: Tracing;
  /** The traces endpoint spans are posted to. */
  endpoint: string;
  /** Exports what is queued and shuts the provider down (bounded by `OTLP_FLUSH_TIMEOUT_MS`). */
  close(): Promise<void>;
}

/**
 * The traces endpoint of `--otlp URL`: the URL as given when it names a path (e.g.
 * `http://collector:4318/v1/traces`), else with `/v1/traces` appended (`http://collector:4318`).
 */
export function otlpTracesEndpoint(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new ConfigError(`invalid value for otlp: ${JSON.stringify(url)} is not a URL`, { key: 'otlp', cause: err });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConfigError(`invalid value for otlp: ${JSON.stringify(url)} (expected http:// or https://)`, { key: 'otlp' });
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/v1/traces';
  return u.toString();
}

/**
 * Starts exporting spans with `@opentelemetry/exporter-trace-otlp-http` (OTLP/HTTP, JSON) in
 * batches. Registers an AsyncLocalStorage context manager (so a span started in an `await`
 * chain parents the spans below it) and this provider as the global tracer provider — the CLI
 * is the application, and the OpenTelemetry API keeps both process-wide by design.
 */
export function startOtlp(url: string, serviceName: string): OtlpTracing {
  const endpoint = otlpTracesEndpoint(url);
  const exporter = new OTLPTraceExporter({ url: endpoint });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: OTLP_MAX_QUEUE, scheduledDelayMillis: 500 })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  const tracing = createTracing({ tracer: provider.getTracer('@converge/cli') });
  let closed: Promise<void> | undefined;
  return {
    tracing,
    endpoint,
    close: () =>
      (closed ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((r) => (timer = setTimeout(r, OTLP_FLUSH_TIMEOUT_MS)));
        try {
          await Promise.race([provider.forceFlush().then(() => provider.shutdown()), timeout]);
        } finally {
          clearTimeout(timer);
          trace.disable();
          context.disable();
        }
      })()),
  };
}
