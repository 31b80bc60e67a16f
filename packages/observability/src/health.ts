// The health-check registry is a contract-level piece: it lives in `@converge/core` (the runtime
// uses it without depending on this package) and is re-exported here for existing callers.
export {
  HealthChecks,
  DEFAULT_CHECK_TIMEOUT_MS,
  DEFAULT_MAX_HEALTH_CHECKS,
  MAX_CHECK_DETAIL,
  type HealthCheck,
  type HealthCheckResult,
  type HealthCheckResult as CheckResult,
  type CheckStatus,
  type HealthReport,
  type HealthChecksOptions,
} from '@converge/core';
