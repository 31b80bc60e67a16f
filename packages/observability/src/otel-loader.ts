import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/** The `@opentelemetry/api` module's shape (a type only; the module itself is optional). */
export type OtelApiModule = typeof OtelApi;

/**
 * Loads `@opentelemetry/api` if it is installed, else returns `undefined` (tracing then turns
 * into no-ops). The API is an optional peer dependency: a synchronous `require` keeps this
 * package loadable without it. The API keeps its registrations (tracer provider, context
 * manager) in one process-wide slot shared by its CJS and ESM builds, so the copy loaded here
 * sees what the application registered through `import`.
 */
export function loadOtelApi(): OtelApiModule | undefined {
  try {
    // ESM: `import.meta.url` is set. The CJS build (tsup) leaves `import.meta` empty and has a
    // real `require`. (`typeof require` cannot decide: the ESM bundle defines a throwing shim.)
    const url = (import.meta as { url?: string }).url;
    const req: NodeJS.Require = url ? createRequire(url) : require;
    return req('@opentelemetry/api') as OtelApiModule;
  } catch {
    return undefined;
  }
}
