// An in-memory OpenTelemetry tracer for one test file (or one describe block), shared by the
// observability and runtime tests: the async-hooks context manager is installed before the
// tests and removed after, finished spans are cleared after each test.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { context } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/** The tracer provider the tests take tracers from and the exporter that holds their finished spans. */
export interface InMemoryTracing {
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
}

/** Registers the hooks of an in-memory tracer in the enclosing file or `describe` block and returns it. */
export function inMemoryTracing(): InMemoryTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(async () => {
    context.disable();
    await provider.shutdown();
  });
  afterEach(() => exporter.reset());
  return { exporter, provider };
}
