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

// Each broken service names the defect it has and the check that must catch it.

/** Never expires a registration. */
class NeverExpires extends MiniDiscovery {
  static readonly broken = 'a service that never expires';
  static readonly check = 'expires a registration ttlMs after its last register or refresh; refresh of an unknown or expired agent is NotFoundError';
  override expired(): boolean {
    return false;
  }
}
/** Hands out its own records instead of copies. */
class SharesRecords extends MiniDiscovery {
  static readonly broken = 'a service that shares its records';
  static readonly check = 'hands out copies: mutating what register, get or query returned changes nothing';
  override async get(id: string): Promise<DescriptorUnderTest | undefined> {
    return this.live(id);
  }
}
/** Accepts any descriptor, signed or not. */
class AcceptsForgeries extends MiniDiscovery {
  static readonly broken = 'a service that accepts forged descriptors';
  static readonly check = 'refuses a descriptor not signed by the key of its id (SignatureError or KeyError) and keeps the real one';
  override verify(_r: RegistrationUnderTest): void {}
}
/** Holds any number of agents. */
class Unbounded extends MiniDiscovery {
  static readonly broken = 'an unbounded service';
  static readonly check = 'holds at most maxAgents (4): one more is LimitExceededError, a known agent still re-registers, an expired one makes room';
  constructor(ctx: DiscoverySetupContext) {
    super({ ...ctx, maxAgents: Number.MAX_SAFE_INTEGER });
  }
}

const broken = [NeverExpires, SharesRecords, AcceptsForgeries, Unbounded];

describe('the discovery suite catches broken services', () => {
  for (const Broken of broken) {
    it(`fails "${Broken.check}" for ${Broken.broken}`, async () => {
      // An assertion of the check fails (not a crash of the check itself).
      await expect(
        runDiscoveryCheck(
          options((ctx) => new Broken(ctx), Broken.broken),
          Broken.check,
        ),
      ).rejects.toMatchObject({ name: 'AssertionError' });
      await runDiscoveryCheck(
        options((ctx) => new MiniDiscovery(ctx), 'intact'),
        Broken.check,
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
