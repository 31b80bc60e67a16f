/**
 * @converge/policy: admission, trust, governance, action policy, resource limits and rate
 * limiting.
 * @packageDocumentation
 */
export type { Clock } from './common.js';
export * from './admission.js';
export * from './trust.js';
export * from './governance.js';
export * from './action-policy.js';
export * from './rate-limiter.js';
export * from './resource-limits.js';
