/**
 * @converge/observability: structured logging (pino), Prometheus metrics (prom-client),
 * tracing through the OpenTelemetry API with trace context carried inside signed messages,
 * an HTTP `/metrics` endpoint with `/healthz` and `/readyz` probes (pluggable checks), and a bounded, lossless replay log.
 * @packageDocumentation
 */
export * from './logging.js';
export * from './metrics.js';
export * from './tracing.js';
export * from './serve.js';
export * from './health.js';
export * from './replay-log.js';
export * from './replay.js';
export { toTagged, fromTagged, dataEqual, MAX_TAGGED_DEPTH } from './tagged-json.js';
