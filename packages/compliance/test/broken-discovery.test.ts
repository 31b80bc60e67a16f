// Each discovery check catches the defect it is there for: a service with one behaviour broken
// fails that check, and the intact service passes it (and the whole suite).
import { describe, expect, it } from 'vitest';
import type { DescriptorUnderTest, DiscoveryComplianceOptions, DiscoverySetupContext, RegistrationUnderTest } from '@converge/compliance/discovery';
import { discoveryComplianceTests, runDiscoveryCheck } from '@converge/compliance/discovery';
import { MiniDiscovery } from './fixtures/mini-discovery.js';

const options = (make: (ctx: DiscoverySetupContext) => MiniDiscovery, name: string): DiscoveryComplianceOptions => ({
  name,
  create: async (ctx) => ({ discovery: make(ctx) }),
});

/** Never expires a registration. */
class NeverExpires extends MiniDiscovery {
  override expired(): boolean {
    return false;
  }
}
/** Hands out its own records instead of copies. */
class SharesRecords extends MiniDiscovery {
  override async get(id: string): Promise<DescriptorUnderTest | undefined> {
    return this.live(id);
  }
}
/** Accepts any descriptor, signed or not. */
class AcceptsForgeries extends MiniDiscovery {
  override verify(_r: RegistrationUnderTest): void {}
}
/** Holds any number of agents. */
class Unbounded extends MiniDiscovery {
  constructor(ctx: DiscoverySetupContext) {
    super({ ...ctx, maxAgents: Number.MAX_SAFE_INTEGER });
  }
}

const cases = [
  {
    broken: 'a service that never expires',
    make: (c: DiscoverySetupContext) => new NeverExpires(c),
    check: 'expires a registration ttlMs after its last register or refresh; refresh of an unknown or expired agent is NotFoundError',
  },
  {
    broken: 'a service that shares its records',
    make: (c: DiscoverySetupContext) => new SharesRecords(c),
    check: 'hands out copies: mutating what register, get or query returned changes nothing',
  },
  {
    broken: 'a service that accepts forged descriptors',
    make: (c: DiscoverySetupContext) => new AcceptsForgeries(c),
    check: 'refuses a descriptor not signed by the key of its id (SignatureError or KeyError) and keeps the real one',
  },
  {
    broken: 'an unbounded service',
    make: (c: DiscoverySetupContext) => new Unbounded(c),
    check: 'holds at most maxAgents (4): one more is LimitExceededError, a known agent still re-registers, an expired one makes room',
  },
];

describe('the discovery suite catches broken services', () => {
  for (const c of cases) {
    it(`fails "${c.check}" for ${c.broken}`, async () => {
      // An assertion of the check fails (not a crash of the check itself).
      await expect(runDiscoveryCheck(options(c.make, c.broken), c.check)).rejects.toMatchObject({ name: 'AssertionError' });
      await runDiscoveryCheck(
        options((ctx) => new MiniDiscovery(ctx), 'intact'),
        c.check,
      );
    });
  }

  it('refuses a title that names no check', async () => {
    await expect(
      runDiscoveryCheck(
        options((ctx) => new MiniDiscovery(ctx), 'intact'),
        'no such check',
      ),
    ).rejects.toThrow(/no discovery check titled/);
  });
});

discoveryComplianceTests(options((ctx) => new MiniDiscovery(ctx), 'MiniDiscovery'));
