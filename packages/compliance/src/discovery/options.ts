import type { DiscoveryUnderTest } from './contract.js';

/** What `create` is given: the clock and limits the service under test must use. */
export interface DiscoverySetupContext {
  /** Unix ms; the suite moves it forward to expire registrations. */
  clock: () => number;
  /** Registration lifetime the service must use (60,000 ms). */
  ttlMs: number;
  /** Most agents the service must hold (4). */
  maxAgents: number;
}

/** A fresh service under test, plus optional hooks. */
export interface DiscoveryFixture {
  /** The service (not started: the suite calls `start()` when it has one). */
  discovery: DiscoveryUnderTest;
  /**
   * A second instance over the same persistence (same clock and limits), for the reload
   * check; omit for a service that keeps nothing.
   */
  reopen?: () => Promise<DiscoveryUnderTest>;
  /** Called after each test (after `stop()`). */
  teardown?: () => Promise<void>;
}

/** Options of `discoveryComplianceTests`. */
export interface DiscoveryComplianceOptions {
  /** Suite title, e.g. `'DiscoveryService (MemoryStore)'`. */
  name: string;
  /** Makes a fresh, empty service using the given clock and limits. */
  create: (ctx: DiscoverySetupContext) => Promise<DiscoveryFixture>;
}
