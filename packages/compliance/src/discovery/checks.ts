// The checks of the discovery suite, runnable with or without vitest's `it`.
import { expect } from 'vitest';
import { Identity, createTopic } from '@converge/core';
import type { DescriptorUnderTest, DiscoveryUnderTest, RegistrationUnderTest } from './contract.js';
import type { DiscoveryComplianceOptions, DiscoveryFixture } from './options.js';

/** Registration lifetime every service under test is created with. */
export const TTL_MS = 60_000;
/** Most agents every service under test is created with. */
export const MAX_AGENTS = 4;
const T0 = 1_700_000_000_000;

/** What a discovery check gets: the fresh service, its fixture, the clock and helpers. */
export interface DiscoveryCheckContext {
  /** The service under test (started). */
  readonly d: DiscoveryUnderTest;
  /** Its fixture (for `reopen`). */
  readonly fx: DiscoveryFixture;
  /** The suite's clock, Unix ms: a check moves it forward. */
  now: number;
  /** Signing identities of the agents the checks register (`MAX_AGENTS + 1`). */
  readonly ids: Identity[];
  /** Registration of agent `i`, with fields of `extra` overriding. */
  reg: (i: number, extra?: Partial<RegistrationUnderTest>) => RegistrationUnderTest;
  /** The ids of a list of descriptors. */
  idsOf: (list: DescriptorUnderTest[]) => string[];
  /** Stops `x` after the check (a second instance from `reopen`). */
  track: (x: DiscoveryUnderTest) => void;
  /** Ends the check as skipped (not applicable to this fixture). */
  skip: () => void;
}

/** One check of the discovery suite. */
export interface DiscoveryCheck {
  /** The test title (`runDiscoveryCheck` finds checks by it). */
  readonly title: string;
  /** Runs it; throws on a defect. */
  run: (c: DiscoveryCheckContext) => Promise<void>;
}

/** A check of the suite. */
const check = (title: string, run: DiscoveryCheck['run']): DiscoveryCheck => ({ title, run });

/** The suite's checks, in order. */
export function discoveryComplianceChecks(): DiscoveryCheck[] {
  return [...registrationChecks(), ...queryChecks(), ...expiryChecks(), ...capacityChecks()];
}

/** Register, get, replace, and copies handed out. */
function registrationChecks(): DiscoveryCheck[] {
  return [
    check('registers a descriptor and gets it back (id, topics, capabilities, endpoints, metadata); an unknown id is undefined', async (c) => {
      const { d, reg, ids } = c;
      const back = await d.register(reg(0));
      expect(back.id).toBe(ids[0]!.fingerprint);
      const got = await d.get(ids[0]!.fingerprint);
      expect(got).toBeDefined();
      expect(got!.topics.map((t) => [t.namespace, t.attributes])).toEqual([['tasks', { type: 't0' }]]);
      expect(got!.capabilities.map((x) => x.name)).toEqual(['cap0', 'common']);
      expect(got!.endpoints).toEqual(['tcp://127.0.0.1:9000']);
      expect(got!.metadata).toEqual({ n: 0 });
      expect(got!.lastSeen).toBe(T0);
      expect(await d.get(ids[1]!.fingerprint)).toBeUndefined();
    }),
    check('replaces a registration of the same agent', async (c) => {
      const { d, reg, ids, idsOf } = c;
      await d.register(reg(0));
      c.now += 1_000;
      await d.register(reg(0, { endpoints: ['ws://127.0.0.1:9999'] }));
      expect((await d.get(ids[0]!.fingerprint))!.endpoints).toEqual(['ws://127.0.0.1:9999']);
      expect(idsOf(await d.query())).toEqual([ids[0]!.fingerprint]);
    }),
    check('hands out copies: mutating what register, get or query returned changes nothing', async (c) => {
      const { d, reg, ids } = c;
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
      expect(again.capabilities.map((x) => x.name)).toEqual(['cap0', 'common']);
    }),
  ];
}

/** Queries by topic and capability, and descriptors not signed by their id's key. */
function queryChecks(): DiscoveryCheck[] {
  return [
    check('queries by namespace, exact topic and capability, with match all and any, in registration order', async (c) => {
      const { d, reg, ids, idsOf } = c;
      await d.register(reg(0));
      await d.register(reg(1, { topics: [createTopic('tasks', { type: 't1' }), createTopic('chat')] }));
      await d.register(reg(2, { topics: [createTopic('chat')], capabilities: [{ name: 'cap2' }] }));
      const [a, b, e] = [0, 1, 2].map((i) => ids[i]!.fingerprint);
      expect(idsOf(await d.query())).toEqual([a, b, e]);
      expect(idsOf(await d.query({ topics: ['tasks'] }))).toEqual([a, b]);
      expect(idsOf(await d.query({ topics: [createTopic('tasks', { type: 't1' })] }))).toEqual([b]);
      expect(idsOf(await d.query({ capabilities: ['common'] }))).toEqual([a, b]);
      expect(idsOf(await d.query({ topics: ['chat'], capabilities: ['common'] }))).toEqual([b]);
      expect(idsOf(await d.query({ topics: ['chat'], capabilities: ['cap0'], match: 'any' }))).toEqual([a, b, e]);
      expect(await d.query({ capabilities: ['nobody-has-this'] })).toEqual([]);
    }),
    check('refuses a descriptor not signed by the key of its id (SignatureError or KeyError) and keeps the real one', async (c) => {
      const { d, reg, ids, idsOf } = c;
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
    }),
  ];
}

/** How a registration ends: expiry after ttlMs (refresh extends it), and unregister. */
function expiryChecks(): DiscoveryCheck[] {
  return [
    check('expires a registration ttlMs after its last register or refresh; refresh of an unknown or expired agent is NotFoundError', async (c) => {
      const { d, reg, ids, idsOf } = c;
      await d.register(reg(0));
      await d.register(reg(1));
      c.now += TTL_MS - 1;
      await d.refresh(ids[0]!.fingerprint);
      c.now += 1; // agent 1 is now exactly ttlMs old; agent 0 was refreshed 1 ms ago
      expect(await d.get(ids[1]!.fingerprint)).toBeUndefined();
      expect(idsOf(await d.query())).toEqual([ids[0]!.fingerprint]);
      await expect(d.refresh(ids[1]!.fingerprint)).rejects.toMatchObject({ name: 'NotFoundError' });
      await expect(d.refresh(ids[4]!.fingerprint)).rejects.toMatchObject({ name: 'NotFoundError' });
      expect((await d.get(ids[0]!.fingerprint))!.lastSeen).toBe(T0 + TTL_MS - 1);
    }),
    check('unregisters (true once, then false) and forgets the agent', async (c) => {
      const { d, reg, ids } = c;
      await d.register(reg(0));
      expect(await d.unregister(ids[0]!.fingerprint)).toBe(true);
      expect(await d.unregister(ids[0]!.fingerprint)).toBe(false);
      expect(await d.get(ids[0]!.fingerprint)).toBeUndefined();
      expect(await d.query()).toEqual([]);
    }),
  ];
}

/** The maxAgents bound, and what a new instance reloads. */
function capacityChecks(): DiscoveryCheck[] {
  return [
    check(`holds at most maxAgents (${MAX_AGENTS}): one more is LimitExceededError, a known agent still re-registers, an expired one makes room`, async (c) => {
      const { d, reg, ids } = c;
      for (let i = 0; i < MAX_AGENTS; i++) await d.register(reg(i));
      await expect(d.register(reg(MAX_AGENTS))).rejects.toMatchObject({ name: 'LimitExceededError' });
      expect(await d.get(ids[MAX_AGENTS]!.fingerprint)).toBeUndefined();
      await d.register(reg(0, { endpoints: ['tcp://127.0.0.1:1'] }));
      c.now += TTL_MS - 1;
      for (let i = 1; i < MAX_AGENTS; i++) await d.refresh(ids[i]!.fingerprint);
      c.now += 1; // only agent 0 has expired
      await d.register(reg(MAX_AGENTS));
      expect((await d.query()).length).toBe(MAX_AGENTS);
    }),
    check('reloads live registrations in a new instance, not unregistered or expired ones (when the fixture has reopen)', async (c) => {
      const { d, fx, reg, ids, idsOf } = c;
      if (!fx.reopen) return c.skip();
      await d.register(reg(0));
      await d.register(reg(1));
      await d.register(reg(2));
      await d.unregister(ids[1]!.fingerprint);
      c.now += TTL_MS - 1;
      await d.refresh(ids[0]!.fingerprint);
      c.now += 1; // agent 2 expired
      const second = await fx.reopen();
      c.track(second);
      await second.start?.();
      expect(idsOf(await second.query())).toEqual([ids[0]!.fingerprint]);
      const got = (await second.get(ids[0]!.fingerprint))!;
      expect(got.endpoints).toEqual(['tcp://127.0.0.1:9000']);
      expect(got.metadata).toEqual({ n: 0 });
    }),
  ];
}

/**
 * Creates a fresh service with `options.create`, starts it and runs `run` with the context;
 * stops everything and tears the fixture down afterwards. `skip` is how a check says it does
 * not apply (called with vitest's `skip` from the suite; by default it ends the check quietly).
 */
export async function withDiscovery(
  options: DiscoveryComplianceOptions,
  run: (c: DiscoveryCheckContext) => Promise<void>,
  skip: () => void = () => undefined,
): Promise<void> {
  const ids = Array.from({ length: MAX_AGENTS + 1 }, () => Identity.generate());
  const open: DiscoveryUnderTest[] = [];
  // The clock reads the context's `now`, which the checks move.
  const ctx = { now: T0 } as DiscoveryCheckContext;
  const fx = await options.create({ clock: () => ctx.now, ttlMs: TTL_MS, maxAgents: MAX_AGENTS });
  Object.assign(ctx, {
    d: fx.discovery,
    fx,
    ids,
    reg: (i: number, extra: Partial<RegistrationUnderTest> = {}): RegistrationUnderTest => ({
      id: ids[i]!.fingerprint,
      publicKey: ids[i]!,
      topics: [createTopic('tasks', { type: `t${i}` })],
      capabilities: [{ name: `cap${i}` }, { name: 'common' }],
      endpoints: [`tcp://127.0.0.1:${9000 + i}`],
      metadata: { n: i },
      ...extra,
    }),
    idsOf: (list: DescriptorUnderTest[]) => list.map((x) => x.id),
    track: (x: DiscoveryUnderTest) => void open.push(x),
    skip,
  });
  open.push(fx.discovery);
  try {
    await fx.discovery.start?.();
    await run(ctx);
  } finally {
    for (const x of open) await x.stop?.();
    await fx.teardown?.();
  }
}
