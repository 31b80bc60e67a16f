import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/** The `@opentelemetry/api` module's shape (a type only; the module itself is optional). */
export type OtelApiModule = typeof OtelApi;

/**
 * Loads `@opentelemetry/api` if it is installed, else returns `undefined` (tracing then turns
 * into no-ops). The API is an optional peer dependency: a synchronous `require` keeps this
 * package loadable without it. The API keeps its registrations (tracer provider, context
 * manager) in one process-wide slot shared by its (the API's) CJS and ESM builds, so the copy loaded here
 * sees what the application registered through `import`.
 */
export function loadOtelApi(): OtelApiModule | undefined {
  try {
    // The package is ESM only, so `import.meta.url` is always set.
    return createRequire(import.meta.url)('@opentelemetry/api') as OtelApiModule;
  } catch {
    return undefined;
  }
}
