import { describe, expect, it } from 'vitest';
import { Float64, Identity, KeyError, LimitExceededError, SignatureError, createTopic, encodeValue, hexToBytes, systemClock, type Clock } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { DiscoveryService, DISCOVERY_AGENT_PREFIX, DISCOVERY_EXTRA_PREFIX, descriptorFromDict, descriptorToDict, signDescriptor } from '../src/index.js';
import { describeWithVectors, vectors, fromTyped } from '../../core/test/vectors.js';

describeWithVectors('descriptor dict form (interop vectors)', () => {
  const cases = vectors.descriptors.vectors as { name: string; store_key: string; dict: unknown }[];
  it('has vectors to check', () => expect(cases.length).toBeGreaterThan(0));
  for (const v of cases) {
    it(`reproduces ${v.name} exactly (keys, order, types)`, () => {
      const dict = fromTyped(v.dict);
      const d = descriptorFromDict(dict);
      const back = descriptorToDict(d);
      expect(back).toEqual(dict);
      expect(JSON.stringify(Object.keys(back))).toBe(JSON.stringify(Object.keys(dict)));
      // Byte-identical msgpack proves key order and int/float types survive.
      expect(Buffer.from(encodeValue(back)).toString('hex')).toBe(Buffer.from(encodeValue(dict)).toString('hex'));
      expect(DISCOVERY_AGENT_PREFIX + d.id).toBe(v.store_key);
    });

    it(`stores ${v.name} under its store_key in the reference form (signed: extras and signature beside it; keyless: refused)`, async () => {
      const store = new MemoryStore();
      const disc = new DiscoveryService({ store, clock: () => 1000 });
      const d = descriptorFromDict(fromTyped(v.dict));
      const seed = (vectors.identities as { seed: string; fingerprint: string }[]).find((i) => i.fingerprint === d.id)?.seed;
      if (!d.publicKey || !seed) {
        // Not self-certifying: nothing to sign it with, so discovery refuses it.
        await expect(disc.register(d)).rejects.toBeInstanceOf(SignatureError);
        expect(await store.list()).toEqual([]);
        return;
      }
      const signer = Identity.fromSecretKey(hexToBytes(seed));
      await disc.register(signDescriptor({ ...d, endpoints: ['tcp://127.0.0.1:9000'], metadata: { region: 'eu' } }, signer, 900));
      const stored = await store.get(v.store_key);
      expect(Buffer.from(encodeValue(stored)).toString('hex')).toBe(Buffer.from(encodeValue(fromTyped(v.dict))).toString('hex'));
      expect(await store.get(DISCOVERY_EXTRA_PREFIX + d.id)).toEqual({
        endpoints: ['tcp://127.0.0.1:9000'],
        metadata: { region: 'eu' },
        last_seen: 1000,
        signature: expect.any(String),
        issued_at: 900,
      });
    });
  }

  it('refuses a public key whose fingerprint is not the id', () => {
    const a = Identity.generate();
    const b = Identity.generate();
    expect(() => descriptorFromDict({ id: a.fingerprint, topics: [], capabilities: [], public_key: Buffer.from(b.publicKey).toString('base64') })).toThrow(
      KeyError,
    );
  });
});

describe('DiscoveryService', () => {
  const alice = Identity.generate();
  const bob = Identity.generate();
  const carol = Identity.generate();
  const descriptors = () => [
    // The agents' identities as publicKey: register signs each descriptor with it.
    {
      id: alice.fingerprint,
      publicKey: alice,
      topics: [createTopic('tasks', { type: 'translate' })],
      capabilities: [{ name: 'translate' }, { name: 'summarize' }],
    },
    { id: bob.fingerprint, publicKey: bob, topics: [createTopic('tasks'), createTopic('chat')], capabilities: [{ name: 'summarize', latencyMs: 20 }] },
    { id: carol.fingerprint, publicKey: carol, topics: [createTopic('chat')], capabilities: [] },
  ];

  it('answers queries with match all / any over topics and capabilities', async () => {
    const disc = new DiscoveryService();
    for (const d of descriptors()) await disc.register(d);
    const ids = async (q: Parameters<DiscoveryService['query']>[0]) => (await disc.query(q)).map((d) => d.id);
    expect(await ids({})).toEqual([alice.fingerprint, bob.fingerprint, carol.fingerprint]);
    expect(await ids({ topics: ['tasks'] })).toEqual([alice.fingerprint, bob.fingerprint]);
    expect(await ids({ topics: [createTopic('tasks', { type: 'translate' })] })).toEqual([alice.fingerprint]);
    expect(await ids({ topics: ['chat'], capabilities: ['summarize'], match: 'all' })).toEqual([bob.fingerprint]);
    expect(await ids({ topics: ['chat'], capabilities: ['translate'], match: 'any' })).toEqual([alice.fingerprint, bob.fingerprint, carol.fingerprint]);
    expect(await ids({ capabilities: ['translate', 'summarize'] })).toEqual([alice.fingerprint]);
    expect(await ids({ capabilities: ['fly'] })).toEqual([]);
  });

  it('expires registrations after the TTL unless refreshed', async () => {
    let now = 0;
    const store = new MemoryStore();
    const disc = new DiscoveryService({ store, ttlMs: 1000, clock: () => now });
    const [a, b] = descriptors();
    await disc.register(a!);
    await disc.register(b!);
    now = 900;
    await disc.refresh(alice.fingerprint);
    now = 1500;
    expect((await disc.query()).map((d) => d.id)).toEqual([alice.fingerprint]);
    expect(await disc.get(bob.fingerprint)).toBeUndefined();
    expect(await store.get(DISCOVERY_AGENT_PREFIX + bob.fingerprint)).toBeUndefined();
    expect(disc.stats.expired).toBe(1);
    now = 1900;
    expect(await disc.get(alice.fingerprint)).toBeUndefined();
    await expect(disc.refresh(alice.fingerprint)).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('reads the time from a Clock object as from a bare function', async () => {
    let now = 0;
    const clock: Clock = { ...systemClock, now: () => now };
    const disc = new DiscoveryService({ store: new MemoryStore(), ttlMs: 1000, clock });
    const [a] = descriptors();
    await disc.register(a!);
    now = 999;
    expect(await disc.get(alice.fingerprint)).toBeDefined();
    now = 1001;
    expect(await disc.get(alice.fingerprint)).toBeUndefined();
  });

  it('reloads from the store on start, with extras, and reads records written in the bare reference form', async () => {
    const store = new MemoryStore();
    const first = new DiscoveryService({ store, clock: () => 5000 });
    const [a, b] = descriptors();
    await first.register({ ...a!, endpoints: ['ws://x'], metadata: { cost: new Float64(2) } });
    // A record as the reference writes it: only the dict, no extras.
    await store.put(
      DISCOVERY_AGENT_PREFIX + bob.fingerprint,
      descriptorToDict(
        descriptorFromDict({
          ...descriptorToDict({
            ...b!,
            publicKey: bob.publicKey,
            endpoints: [],
            metadata: {},
            lastSeen: 0,
            capabilities: [{ name: 'summarize', version: '1.0', description: '', constraints: {}, costs: {}, latencyMs: 20 }],
          }),
        }),
      ),
    );
    await store.put(DISCOVERY_AGENT_PREFIX + 'broken', { id: 7 });
    // By default an unsigned record is skipped; reading a reference-written store needs the option.
    const strict = new DiscoveryService({ store, clock: () => 6000 });
    await strict.start();
    expect(strict.size).toBe(1);
    expect(strict.stats.invalidRecords).toBe(2);
    const second = new DiscoveryService({ store, clock: () => 6000, acceptUnsignedRecords: true });
    await second.start();
    const got = await second.get(alice.fingerprint);
    expect(got?.endpoints).toEqual(['ws://x']);
    expect(got?.metadata.cost).toBeInstanceOf(Float64);
    expect(got?.lastSeen).toBe(5000);
    expect([...got!.publicKey!]).toEqual([...alice.publicKey]);
    const bobD = await second.get(bob.fingerprint);
    expect(bobD?.lastSeen).toBe(6000);
    expect(bobD?.capabilities[0]?.latencyMs).toBe(20);
    expect(second.stats.invalidRecords).toBe(1);
    expect(second.size).toBe(2);
  });

  it('unregisters from memory and the store', async () => {
    const store = new MemoryStore();
    const disc = new DiscoveryService({ store });
    await disc.register(descriptors()[0]!);
    expect(await disc.unregister(alice.fingerprint)).toBe(true);
    expect(await store.list('discovery:')).toEqual([]);
    expect(await disc.unregister(alice.fingerprint)).toBe(false);
  });

  it('is bounded by maxAgents and returns copies', async () => {
    const disc = new DiscoveryService({ maxAgents: 2 });
    const [a, b, c] = descriptors();
    await disc.register(a!);
    await disc.register(b!);
    await expect(disc.register(c!)).rejects.toBeInstanceOf(LimitExceededError);
    const got = await disc.get(alice.fingerprint);
    got!.capabilities.length = 0;
    expect((await disc.get(alice.fingerprint))!.capabilities.length).toBe(2);
  });
});
