import { HealthChecks, type HealthCheck, type HealthChecksOptions } from '@converge/core';

/** Options of the runtime's health and readiness checks (part of `AgentRuntimeOptions`). */
export interface RuntimeHealthOptions {
  /** More health (liveness) checks, by name, next to the runtime's own (`runtime`). */
  healthChecks?: Readonly<Record<string, HealthCheck>>;
  /** More readiness checks, by name, next to the runtime's own (`runtime`). */
  readyChecks?: Readonly<Record<string, HealthCheck>>;
  /** Bounds of the checks (per-check timeout, most checks). */
  healthOptions?: HealthChecksOptions;
}

/** What the runtime's own checks read. */
export interface RuntimeProbe {
  isHealthy(): boolean;
  isReady(): boolean;
}

/**
 * The runtime's `HealthChecks`: its own `runtime` checks (`isHealthy()`, `isReady()`) and the
 * pluggable ones of `options`. More can be added later with `runtime.health.addHealthCheck`.
 */
export function runtimeHealth(runtime: RuntimeProbe, options: RuntimeHealthOptions): HealthChecks {
  const health = new HealthChecks(options.healthOptions);
  health.addHealthCheck('runtime', () => (runtime.isHealthy() ? true : { ok: false, detail: 'not running, its intake stopped, or a turn is stuck' }));
  health.addReadyCheck('runtime', () => (runtime.isReady() ? true : { ok: false, detail: 'not started, stopping, or its inbox is full' }));
  for (const [name, check] of Object.entries(options.healthChecks ?? {})) health.addHealthCheck(name, check);
  for (const [name, check] of Object.entries(options.readyChecks ?? {})) health.addReadyCheck(name, check);
  return health;
}
