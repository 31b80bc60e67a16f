/**
 * `@converge/compliance/transport`: the behaviour every Transport must show, as a vitest suite.
 * @packageDocumentation
 */
import { afterEach, beforeEach, describe, it } from 'vitest';
import { within } from './bounds.js';
import { basicChecks, shortGuard } from './basic-checks.js';
import type { TransportCheck } from './check.js';
import { checkContext, resolveBounds, resolveCapabilities } from './context.js';
import { contractChecks } from './contract-checks.js';
import { slowConsumerCheck } from './slow-consumer-check.js';
import type { TransportComplianceOptions, TransportPair } from './options.js';

export { messageOfEncodedSize } from './sized-message.js';
export type { TransportUnderTest } from './contract.js';
export type { TransportCapabilities, TransportComplianceOptions, TransportPair } from './options.js';
export type { TransportCheck } from './check.js';
export type { TransportCheckContext } from './context.js';
export { ComplianceTimeoutError, DEFAULT_TRANSPORT_BOUNDS, type TransportBounds } from './bounds.js';
export { UNKNOWN_RECIPIENT } from './contract-checks.js';

/**
 * The suite's checks for these options, in order (disabled ones have `enabled: false`). Each
 * runs over a fresh pair; `transportComplianceTests` registers them with vitest and
 * `runTransportCheck` runs one on its own (e.g. to prove that a deliberately broken transport
 * fails it).
 */
export function transportComplianceChecks(options: TransportComplianceOptions): TransportCheck[] {
  const caps = resolveCapabilities(options);
  const bounds = resolveBounds(options);
  return [
    ...basicChecks(options, caps, bounds),
    ...contractChecks(caps, shortGuard(bounds)),
    slowConsumerCheck(options.slowConsumerCount ?? 20_000, caps.backpressure),
  ];
}

async function teardown(options: TransportComplianceOptions, pair: TransportPair): Promise<void> {
  const settleMs = resolveBounds(options).settleMs;
  // Each stop is bounded too: a transport whose stop() hangs is named, not left to the runner.
  await within(pair.a.stop(), settleMs, 'a.stop() did not settle (teardown)');
  await within(pair.b.stop(), settleMs, 'b.stop() did not settle (teardown)');
  if (pair.c) await within(pair.c.stop(), settleMs, 'c.stop() did not settle (teardown)');
  if (pair.cleanup) await within(pair.cleanup(), settleMs, 'cleanup() did not settle (teardown)');
}

/**
 * Runs one check (by title, or a `TransportCheck`) over a fresh pair, outside vitest's `it`,
 * and tears the pair down. Rejects with the check's assertion or bound error. A disabled check
 * is refused (`Error`), so a caller never mistakes "not applicable" for "passed".
 */
export async function runTransportCheck(options: TransportComplianceOptions, check: string | TransportCheck): Promise<void> {
  const c = typeof check === 'string' ? transportComplianceChecks(options).find((x) => x.title === check) : check;
  if (!c) throw new Error(`no transport check titled ${JSON.stringify(check)}`);
  if (!c.enabled) throw new Error(`the check ${JSON.stringify(c.title)} does not apply to ${options.name} (capabilities)`);
  const pair = await options.createPair();
  try {
    await c.run(checkContext(options, pair));
  } finally {
    await teardown(options, pair);
  }
}

/**
 * Registers the Transport compliance suite with vitest. Call it at the top level of a test
 * file:
 *
 * ```ts
 * transportComplianceTests({
 *   name: 'LocalTransport',
 *   createPair: async () => { const hub = new LocalHub(); return {
 *     a: new LocalTransport('a', { hub }), b: new LocalTransport('b', { hub }), c: new LocalTransport('c', { hub }),
 *     aId: 'a', bId: 'b', maxMessageBytes: hub.maxMessageBytes } },
 * });
 * ```
 *
 * Every check waits with its own bounds (`options.bounds`) and names the defect when a
 * transport does not settle; each also has a hang guard passed to `it` as its timeout.
 */
export function transportComplianceTests(options: TransportComplianceOptions): void {
  describe(`${options.name} (transport compliance)`, () => {
    let pair: TransportPair;
    beforeEach(async () => {
      pair = await options.createPair();
    });
    afterEach(async () => {
      await teardown(options, pair);
    });
    for (const check of transportComplianceChecks(options)) {
      it.runIf(check.enabled)(check.title, () => check.run(checkContext(options, pair)), check.timeoutMs);
    }
  });
}
