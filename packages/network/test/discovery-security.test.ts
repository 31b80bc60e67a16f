// Discovery poisoning (issue 21: M6) and trust-filtered queries.
import { describe, expect, it } from 'vitest';
import { Agent, ConflictError, Identity, SignatureError, ValidationError, type Decision } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentNetwork, descriptorOfAgent, descriptorSigningBytes, DISCOVERY_EXTRA_PREFIX, DiscoveryService, IdentityRegistry } from '../src/index.js';
import { LocalHub, LocalTransport, signDescriptor, verifyDescriptor } from '../src/index.js';

const alice = Identity.generate();
const bob = Identity.generate();
const mallory = Identity.generate();

describe('discovery descriptors are self-certifying (M6)', () => {
  it("refuses registering another agent's id without a key, and keeps the stored key", async () => {
    const disc = new DiscoveryService();
    await disc.register({ id: alice.fingerprint, publicKey: alice, endpoints: ['tcp://10.0.0.1:7000'] });
    await expect(disc.register({ id: alice.fingerprint, endpoints: ['tcp://6.6.6.6:1'] })).rejects.toBeInstanceOf(SignatureError);
    const got = await disc.get(alice.fingerprint);
    expect([...got!.publicKey!]).toEqual([...alice.publicKey]);
    expect(got!.endpoints).toEqual(['tcp://10.0.0.1:7000']);
    expect(disc.stats.refused).toBe(1);
  });

  it("refuses another agent's public key with attacker endpoints, unsigned or signed by the attacker", async () => {
    const disc = new DiscoveryService();
    await disc.register({ id: alice.fingerprint, publicKey: alice, endpoints: ['tcp://10.0.0.1:7000'] });
    const poison = { id: alice.fingerprint, publicKey: alice.publicKey, endpoints: ['tcp://6.6.6.6:1'] };
    await expect(disc.register(poison)).rejects.toBeInstanceOf(SignatureError);
    // Mallory signs the poisoned descriptor with her own key: the signature is not alice's.
    const d = { ...poison, topics: [], capabilities: [], metadata: {}, lastSeen: 0, issuedAt: Date.now() + 1000 };
    await expect(disc.register({ ...d, signature: mallory.sign(descriptorSigningBytes(d)) })).rejects.toBeInstanceOf(SignatureError);
    expect(() => signDescriptor(poison, mallory)).toThrow();
    expect((await disc.get(alice.fingerprint))!.endpoints).toEqual(['tcp://10.0.0.1:7000']);
    expect(disc.stats.refused).toBe(2);
  });

  it('refuses going back to an older signed descriptor (a replayed registration)', async () => {
    const disc = new DiscoveryService();
    const old = signDescriptor({ id: alice.fingerprint, endpoints: ['tcp://10.0.0.1:1'] }, alice, 1000);
    await disc.register(old);
    await disc.register(signDescriptor({ id: alice.fingerprint, endpoints: ['tcp://10.0.0.1:2'] }, alice, 2000));
    await expect(disc.register(old)).rejects.toBeInstanceOf(ConflictError);
    expect((await disc.get(alice.fingerprint))!.endpoints).toEqual(['tcp://10.0.0.1:2']);
  });

  it('a signed descriptor is accepted as is (a remote agent signs, anyone may relay it); tampering breaks it', async () => {
    const signed = signDescriptor({ id: bob.fingerprint, endpoints: ['ws://bob'] }, bob);
    expect(verifyDescriptor(signed)).toBe(true);
    expect(verifyDescriptor({ ...signed, endpoints: ['ws://mallory'] })).toBe(false);
    const disc = new DiscoveryService();
    expect((await disc.register(signed)).endpoints).toEqual(['ws://bob']);
  });

  it('skips a stored record whose endpoints were changed behind the signature', async () => {
    const store = new MemoryStore();
    const first = new DiscoveryService({ store });
    await first.register({ id: alice.fingerprint, publicKey: alice, endpoints: ['tcp://10.0.0.1:7000'] });
    const ext = (await store.get<Record<string, unknown>>(DISCOVERY_EXTRA_PREFIX + alice.fingerprint))!;
    await store.put(DISCOVERY_EXTRA_PREFIX + alice.fingerprint, { ...ext, endpoints: ['tcp://6.6.6.6:1'] });
    const second = new DiscoveryService({ store });
    await second.start();
    expect(await second.get(alice.fingerprint)).toBeUndefined();
    expect(second.stats.invalidRecords).toBe(1);
  });

  it('AgentNetwork registers an Agent with a descriptor signed by its identity', async () => {
    class Quiet extends Agent {
      async decide(): Promise<Decision[]> {
        return [];
      }
    }
    const agent = new Quiet({ identity: alice });
    expect(verifyDescriptor(descriptorOfAgent(agent, { endpoints: ['ws://a'] }))).toBe(true);
    const registry = new IdentityRegistry();
    const net = new AgentNetwork(new LocalTransport(alice.fingerprint, { hub: new LocalHub() }), { discovery: new DiscoveryService(), registry });
    await net.registerAgent(agent);
    expect(registry.has(alice.fingerprint)).toBe(true);
    // An unsigned descriptor for someone else is refused before its key reaches the registry.
    await expect(net.registerAgent({ id: bob.fingerprint, publicKey: bob.publicKey })).rejects.toBeInstanceOf(SignatureError);
    expect(registry.has(bob.fingerprint)).toBe(false);
  });
});

describe('discovery queries by trust', () => {
  it('filters by minTrust with a function or a TrustSource, and needs one to do so', async () => {
    const scores = new Map([
      [alice.fingerprint, 0.9],
      [bob.fingerprint, 0.2],
    ]);
    const byFunction = new DiscoveryService({ trust: (id) => scores.get(id) ?? 0 });
    const bySource = new DiscoveryService({ trust: { score: (id: string) => scores.get(id) ?? 0 } });
    for (const disc of [byFunction, bySource]) {
      await disc.register({ id: alice.fingerprint, publicKey: alice });
      await disc.register({ id: bob.fingerprint, publicKey: bob });
      expect((await disc.query({ minTrust: 0.5 })).map((d) => d.id)).toEqual([alice.fingerprint]);
      expect((await disc.query({})).length).toBe(2);
    }
    await expect(new DiscoveryService().query({ minTrust: 0.5 })).rejects.toBeInstanceOf(ValidationError);
  });
});
