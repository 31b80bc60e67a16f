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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Identity, createTopic } from '@converge/core';
import type { DescriptorUnderTest, DiscoveryUnderTest, RegistrationUnderTest } from './contract.js';

export type { DescriptorUnderTest, DiscoveryQueryUnderTest, DiscoveryUnderTest, RegistrationUnderTest } from './contract.js';

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

const TTL_MS = 60_000;
const MAX_AGENTS = 4;
const T0 = 1_700_000_000_000;

/**
 * Registers the discovery compliance suite with vitest: register/get/replace, copies,
 * queries by namespace, exact topic and capability (`all`/`any`), refusal of a descriptor not
 * signed by its id's key (`SignatureError`, or `KeyError` when the key does not match the id; nothing stored), expiry after `ttlMs` and
 * `refresh` (`NotFoundError` when unknown or expired), `unregister`, the `maxAgents` bound
 * (`LimitExceededError`, expired agents make room) and, with `reopen`, reload of live
 * registrations only.
 */
export function discoveryComplianceTests(options: DiscoveryComplianceOptions): void {
  describe(`${options.name} (discovery compliance)`, () => {
    const ids = Array.from({ length: MAX_AGENTS + 1 }, () => Identity.generate());
    let now = T0;
    let fx: DiscoveryFixture;
    let d: DiscoveryUnderTest;
    const open: DiscoveryUnderTest[] = [];
    const reg = (i: number, extra: Partial<RegistrationUnderTest> = {}): RegistrationUnderTest => ({
      id: ids[i]!.fingerprint, publicKey: ids[i]!, topics: [createTopic('tasks', { type: `t${i}` })],
      capabilities: [{ name: `cap${i}` }, { name: 'common' }], endpoints: [`tcp://127.0.0.1:${9000 + i}`], metadata: { n: i }, ...extra,
    });
    const idsOf = (list: DescriptorUnderTest[]): string[] => list.map((x) => x.id);

    beforeEach(async () => {
      now = T0;
      fx = await options.create({ clock: () => now, ttlMs: TTL_MS, maxAgents: MAX_AGENTS });
      d = fx.discovery;
      open.push(d);
      await d.start?.();
    });
    afterEach(async () => {
      for (const x of open.splice(0)) await x.stop?.();
      await fx.teardown?.();
    });

    it('registers a descriptor and gets it back (id, topics, capabilities, endpoints, metadata); an unknown id is undefined', async () => {
      const back = await d.register(reg(0));
      expect(back.id).toBe(ids[0]!.fingerprint);
      const got = await d.get(ids[0]!.fingerprint);
      expect(got).toBeDefined();
      expect(got!.topics.map((t) => [t.namespace, t.attributes])).toEqual([['tasks', { type: 't0' }]]);
      expect(got!.capabilities.map((c) => c.name)).toEqual(['cap0', 'common']);
      expect(got!.endpoints).toEqual(['tcp://127.0.0.1:9000']);
      expect(got!.metadata).toEqual({ n: 0 });
      expect(got!.lastSeen).toBe(T0);
      expect(await d.get(ids[1]!.fingerprint)).toBeUndefined();
    });

    it('replaces a registration of the same agent', async () => {
      await d.register(reg(0));
      now += 1_000;
      await d.register(reg(0, { endpoints: ['ws://127.0.0.1:9999'] }));
      expect((await d.get(ids[0]!.fingerprint))!.endpoints).toEqual(['ws://127.0.0.1:9999']);
      expect(idsOf(await d.query())).toEqual([ids[0]!.fingerprint]);
    });

    it('hands out copies: mutating what register, get or query returned changes nothing', async () => {
      const back = await d.register(reg(0));
      back.endpoints.push('tcp://evil:1');
      (back.metadata as Record<string, unknown>).n = 99;
      const got = (await d.get(ids[0]!.fingerprint))!;
      got.topics.length = 0;
      got.capabilities.push({ name: 'injected' });
      (await d.query())[0]!.endpoints.length = 0;
      const again = (await d.get(ids[0]!.fingerprint))!;
      expect(again.endpoints).toEqual(['tcp://127.0.0.1:9000']);
      expect(again.metadata).toEqual({ n: 0 });
      expect(again.topics).toHaveLength(1);
      expect(again.capabilities.map((c) => c.name)).toEqual(['cap0', 'common']);
    });

    it('queries by namespace, exact topic and capability, with match all and any, in registration order', async () => {
      await d.register(reg(0));
      await d.register(reg(1, { topics: [createTopic('tasks', { type: 't1' }), createTopic('chat')] }));
      await d.register(reg(2, { topics: [createTopic('chat')], capabilities: [{ name: 'cap2' }] }));
      const [a, b, c] = [0, 1, 2].map((i) => ids[i]!.fingerprint);
      expect(idsOf(await d.query())).toEqual([a, b, c]);
      expect(idsOf(await d.query({ topics: ['tasks'] }))).toEqual([a, b]);
      expect(idsOf(await d.query({ topics: [createTopic('tasks', { type: 't1' })] }))).toEqual([b]);
      expect(idsOf(await d.query({ capabilities: ['common'] }))).toEqual([a, b]);
      expect(idsOf(await d.query({ topics: ['chat'], capabilities: ['common'] }))).toEqual([b]);
      expect(idsOf(await d.query({ topics: ['chat'], capabilities: ['cap0'], match: 'any' }))).toEqual([a, b, c]);
      expect(await d.query({ capabilities: ['nobody-has-this'] })).toEqual([]);
    });

    it('refuses a descriptor not signed by the key of its id (SignatureError or KeyError) and keeps the real one', async () => {
      await d.register(reg(0));
      const refused = { name: expect.stringMatching(/^(SignatureError|KeyError)$/) };
      // Agent 1 claims agent 0's id: signed, but by a key whose fingerprint is not the id.
      await expect(d.register(reg(0, { publicKey: ids[1]!, endpoints: ['tcp://attacker:1'] }))).rejects.toMatchObject(refused);
      // Agent 0's public key without its secret: nothing can sign the new endpoints.
      const unsigned = reg(0, { publicKey: Identity.fromPublicKey(ids[0]!.publicKey), endpoints: ['tcp://attacker:2'] });
      await expect(d.register(unsigned)).rejects.toMatchObject({ name: 'SignatureError' });
      expect((await d.get(ids[0]!.fingerprint))!.endpoints).toEqual(['tcp://127.0.0.1:9000']);
      await expect(d.register(reg(2, { id: ids[3]!.fingerprint }))).rejects.toMatchObject(refused);
      expect(await d.get(ids[3]!.fingerprint)).toBeUndefined();
      expect(idsOf(await d.query())).toEqual([ids[0]!.fingerprint]);
    });

    it('expires a registration ttlMs after its last register or refresh; refresh of an unknown or expired agent is NotFoundError', async () => {
      await d.register(reg(0));
      await d.register(reg(1));
      now += TTL_MS - 1;
      await d.refresh(ids[0]!.fingerprint);
      now += 1; // agent 1 is now exactly ttlMs old; agent 0 was refreshed 1 ms ago
      expect(await d.get(ids[1]!.fingerprint)).toBeUndefined();
      expect(idsOf(await d.query())).toEqual([ids[0]!.fingerprint]);
      await expect(d.refresh(ids[1]!.fingerprint)).rejects.toMatchObject({ name: 'NotFoundError' });
      await expect(d.refresh(ids[4]!.fingerprint)).rejects.toMatchObject({ name: 'NotFoundError' });
      expect((await d.get(ids[0]!.fingerprint))!.lastSeen).toBe(T0 + TTL_MS - 1);
    });

    it('unregisters (true once, then false) and forgets the agent', async () => {
      await d.register(reg(0));
      expect(await d.unregister(ids[0]!.fingerprint)).toBe(true);
      expect(await d.unregister(ids[0]!.fingerprint)).toBe(false);
      expect(await d.get(ids[0]!.fingerprint)).toBeUndefined();
      expect(await d.query()).toEqual([]);
    });

    it(`holds at most maxAgents (${MAX_AGENTS}): one more is LimitExceededError, a known agent still re-registers, an expired one makes room`, async () => {
      for (let i = 0; i < MAX_AGENTS; i++) await d.register(reg(i));
      await expect(d.register(reg(MAX_AGENTS))).rejects.toMatchObject({ name: 'LimitExceededError' });
      expect(await d.get(ids[MAX_AGENTS]!.fingerprint)).toBeUndefined();
      await d.register(reg(0, { endpoints: ['tcp://127.0.0.1:1'] }));
      now += TTL_MS - 1;
      for (let i = 1; i < MAX_AGENTS; i++) await d.refresh(ids[i]!.fingerprint);
      now += 1; // only agent 0 has expired
      await d.register(reg(MAX_AGENTS));
      expect((await d.query()).length).toBe(MAX_AGENTS);
    });

    it('reloads live registrations in a new instance, not unregistered or expired ones (when the fixture has reopen)', async (t) => {
      if (!fx.reopen) return t.skip();
      await d.register(reg(0));
      await d.register(reg(1));
      await d.register(reg(2));
      await d.unregister(ids[1]!.fingerprint);
      now += TTL_MS - 1;
      await d.refresh(ids[0]!.fingerprint);
      now += 1; // agent 2 expired
      const second = await fx.reopen();
      open.push(second);
      await second.start?.();
      expect(idsOf(await second.query())).toEqual([ids[0]!.fingerprint]);
      const got = (await second.get(ids[0]!.fingerprint))!;
      expect(got.endpoints).toEqual(['tcp://127.0.0.1:9000']);
      expect(got.metadata).toEqual({ n: 0 });
    });
  });
}
