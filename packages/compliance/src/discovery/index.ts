/**
 * `@converge/compliance/discovery`: the behaviour every discovery service must show, as a
 * vitest suite.
 *
 * ```ts
 * import { discoveryComplianceTests } from '@converge/compliance/discovery';
 * import { DiscoveryService } from '@converge/network';
 * discoveryComplianceTests({
 *   name: 'DiscoveryService',
 *   create: async ({ clock, ttlMs, maxAgents }) => ({ discovery: new DiscoveryService({ clock, ttlMs, maxAgents }) }),
 * });
 * ```
 * @packageDocumentation
 */
import { describe, it } from 'vitest';
import { discoveryComplianceChecks, withDiscovery } from './checks.js';
import type { DiscoveryComplianceOptions } from './options.js';

export type { DescriptorUnderTest, DiscoveryQueryUnderTest, DiscoveryUnderTest, RegistrationUnderTest } from './contract.js';
export type { DiscoveryComplianceOptions, DiscoveryFixture, DiscoverySetupContext } from './options.js';
export { MAX_AGENTS, TTL_MS, discoveryComplianceChecks, type DiscoveryCheck, type DiscoveryCheckContext } from './checks.js';

/**
 * Runs one check (by title) over a fresh service outside vitest's `it`, and tears it down.
 * Rejects with the check's assertion error, e.g. to prove that a deliberately broken service
 * fails it.
 */
export async function runDiscoveryCheck(options: DiscoveryComplianceOptions, title: string): Promise<void> {
  const check = discoveryComplianceChecks().find((c) => c.title === title);
  if (!check) throw new Error(`no discovery check titled ${JSON.stringify(title)}`);
  await withDiscovery(options, check.run);
}

/**
 * Registers the discovery compliance suite with vitest: register/get/replace, copies,
 * queries by namespace, exact topic and capability (`all`/`any`), refusal of a descriptor not
 * signed by its id's key (`SignatureError`, or `KeyError` when the key does not match the id;
 * nothing stored), expiry after `ttlMs` and `refresh` (`NotFoundError` when unknown or
 * expired), `unregister`, the `maxAgents` bound (`LimitExceededError`, expired agents make
 * room) and, with `reopen`, reload of live registrations only.
 */
export function discoveryComplianceTests(options: DiscoveryComplianceOptions): void {
  describe(`${options.name} (discovery compliance)`, () => {
    for (const check of discoveryComplianceChecks()) {
      it(check.title, (t) => withDiscovery(options, check.run, () => t.skip()));
    }
  });
}
