import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Identity, createMessage, decodeMessage, encodeMessage, signMessage, type Message } from '@converge/core';
import { MetricsCollector, type Logger } from '@converge/observability';
import { IdentityRegistry, LocalHub, LocalTransport, MessageVerifier, ReplayCache, VerifierPool, receiveVerified } from '../src/index.js';

const alice = Identity.generate();
const bob = Identity.generate();
const mallory = Identity.generate();

function setup(now = 1_700_000_000_000) {
  const registry = new IdentityRegistry();
  registry.register(alice);
  registry.register(bob);
  const clock = { now };
  const metrics = new MetricsCollector();
  const logged: { reason: string }[] = [];
  const logger = { warn: (o: { reason: string }) => logged.push(o) } as unknown as Logger;
  const verifier = new MessageVerifier({ registry, clock: () => clock.now, metrics, logger, skewMs: 60_000 });
  const signed = (init: Parameters<typeof createMessage>[0] = {}, who = alice) =>
    signMessage(createMessage({ recipient: bob.fingerprint, timestamp: clock.now, payload: { n: 1 }, ...init }), who);
  return { registry, clock, metrics, logged, verifier, signed };
}

describe('MessageVerifier.check', () => {
  it('accepts a signed message from a registered sender, once', () => {
    const { verifier, signed, metrics } = setup();
    const m = signed();
    expect(verifier.check(m)).toEqual({ ok: true });
    expect(verifier.check(m)).toEqual({ ok: false, reason: 'replay' });
    // The same message off the wire is the same replay.
    expect(verifier.check(decodeMessage(encodeMessage(m)))).toEqual({ ok: false, reason: 'replay' });
    expect(verifier.verified).toBe(1);
    expect(metrics.counter('converge_messages_rejected_total', 'x', ['reason']).get({ reason: 'replay' })).toBe(2);
    expect(metrics.counter('converge_messages_verified_total', 'x', []).get()).toBe(1);
  });

  it('rejects, counts and logs each reason', () => {
    const { verifier, signed, clock, logged, metrics } = setup();
    expect(verifier.check(signed({}, mallory))).toEqual({ ok: false, reason: 'unknown_sender' });
    const good = signed();
    const tampered = { ...good, payload: { n: 2 } } as Message;
    expect(verifier.check(tampered)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifier.check(createMessage({ sender: alice.fingerprint, timestamp: clock.now }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifier.check(signed({ timestamp: clock.now - 60_001 }))).toEqual({ ok: false, reason: 'stale' });
    expect(verifier.check(signed({ timestamp: clock.now + 60_001 }))).toEqual({ ok: false, reason: 'stale' });
    expect(verifier.check(signed({ timestamp: clock.now + 60_000 }))).toEqual({ ok: true });
    expect(verifier.check({ id: 5 } as unknown as Message)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifier.check(null as unknown as Message)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifier.rejections).toEqual({ unknown_sender: 1, bad_signature: 2, stale: 2, replay: 0, malformed: 2, wrong_recipient: 0 });
    expect(logged.map((l) => l.reason)).toEqual(['unknown_sender', 'bad_signature', 'bad_signature', 'stale', 'stale', 'malformed', 'malformed']);
    const c = metrics.counter('converge_messages_rejected_total', 'x', ['reason']);
    expect(c.get({ reason: 'stale' })).toBe(2);
    expect(c.get({ reason: 'malformed' })).toBe(2);
  });

  it('tells onReject the sender and reason of each rejection (a TrustFeed lowers trust on bad_signature); a throwing hook changes nothing', () => {
    const registry = new IdentityRegistry();
    registry.register(alice);
    const seen: [string | undefined, string][] = [];
    const now = 1_700_000_000_000;
    const verifier = new MessageVerifier({ registry, clock: () => now, onReject: (sender, reason) => seen.push([sender, reason]) });
    const good = signMessage(createMessage({ timestamp: now, payload: { n: 1 } }), alice);
    expect(verifier.check({ ...good, payload: { n: 2 } } as Message)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifier.check(null as unknown as Message)).toEqual({ ok: false, reason: 'malformed' });
    expect(seen).toEqual([
      [alice.fingerprint, 'bad_signature'],
      [undefined, 'malformed'],
    ]);
    const throwing = new MessageVerifier({
      registry,
      clock: () => now,
      onReject: () => {
        throw new Error('hook down');
      },
    });
    expect(throwing.check({ ...good, payload: { n: 3 } } as Message)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(throwing.check(good)).toEqual({ ok: true });
  });

  it('records an id only after the signature verifies, so a forgery cannot block the real message', () => {
    const { verifier, signed } = setup();
    const real = signed();
    const forged = { ...real, payload: 'evil' } as Message;
    expect(verifier.check(forged).ok).toBe(false);
    expect(verifier.check(real)).toEqual({ ok: true });
  });

  it('keys replays by sender: another registered agent cannot pre-empt an id', () => {
    const { verifier, signed } = setup();
    const fromBob = signed({ id: 'shared-id' }, bob);
    const fromAlice = signed({ id: 'shared-id' }, alice);
    expect(verifier.check(fromBob).ok).toBe(true);
    expect(verifier.check(fromAlice).ok).toBe(true);
  });

  it('forgets ids after the TTL (by then the message is stale anyway)', () => {
    const { verifier, signed, clock } = setup();
    const m = signed();
    expect(verifier.check(m).ok).toBe(true);
    clock.now += 120_001;
    expect(verifier.check(m)).toEqual({ ok: false, reason: 'stale' });
  });
});

describe('ReplayCache', () => {
  it("is bounded per sender: an evicted id raises its sender's floor, so it is still refused", () => {
    const now = 1000;
    const c = new ReplayCache({ skewMs: 100, maxIdsPerSender: 3, clock: () => now });
    expect(['a', 'b', 'c', 'd'].map((k, i) => c.add('x', k, 950 + i))).toEqual([true, true, true, true]);
    expect(c.size).toBe(3);
    expect(c.evictions).toBe(1);
    expect(c.floorOf('x')).toBe(950);
    // 'a' was forgotten, but its timestamp is at the floor: still a replay.
    expect(c.add('x', 'a', 950)).toBe(false);
    expect(c.add('x', 'd', 953)).toBe(false);
    expect(c.add('y', 'a', 950)).toBe(true);
  });

  it('forgets ids once their timestamp is out of the window, and idle senders entirely', () => {
    let now = 1000;
    const c = new ReplayCache({ skewMs: 100, clock: () => now });
    c.add('x', 'a', 1000);
    c.add('y', 'b', 1000);
    now = 1101;
    expect(c.add('z', 'c', 1101)).toBe(true);
    expect(c.senders).toBe(1);
    expect(c.size).toBe(1);
  });
});

describe('receiveVerified', () => {
  async function pairOnHub() {
    const hub = new LocalHub();
    const a = new LocalTransport(alice.fingerprint, { hub });
    const b = new LocalTransport(bob.fingerprint, { hub });
    await a.start();
    await b.start();
    return { a, b };
  }

  it('returns only verified, fresh, first-seen messages, in order; null on timeout', async () => {
    const { registry, verifier, signed, clock } = setup(Date.now());
    const { a, b } = await pairOnHub();
    const good1 = signed({ payload: 1 });
    const good2 = signed({ payload: 2 });
    await a.send(good1);
    await a.send(signed({}, mallory));
    await a.send(good1);
    await a.send(signed({ timestamp: clock.now - 3_600_000 }));
    await a.send({ ...good2, payload: 'x' } as Message);
    await a.send(good2);
    expect((await receiveVerified(b, verifier, { timeoutMs: 1000 }))?.id).toBe(good1.id);
    expect((await receiveVerified(b, verifier, { timeoutMs: 1000 }))?.id).toBe(good2.id);
    expect(await receiveVerified(b, verifier, { timeoutMs: 10 })).toBeNull();
    expect(verifier.rejections).toEqual({ unknown_sender: 1, bad_signature: 1, stale: 1, replay: 1, malformed: 0, wrong_recipient: 0 });
    // A bare registry gets one default verifier per registry, so replays are still caught.
    await a.send(good1);
    await a.send(good1);
    expect((await receiveVerified(b, registry, { timeoutMs: 1000 }))?.id).toBe(good1.id);
    expect(await receiveVerified(b, registry, { timeoutMs: 10 })).toBeNull();
    await a.stop();
    await b.stop();
  });

  it('honours an AbortSignal and resolves null when the transport stops', async () => {
    const { verifier } = setup(Date.now());
    const { a, b } = await pairOnHub();
    const ac = new AbortController();
    const p = receiveVerified(b, verifier, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    const q = receiveVerified(b, verifier);
    await b.stop();
    expect(await q).toBeNull();
    await a.stop();
  });
});

describe('VerifierPool', () => {
  const pool = new VerifierPool({ size: 2 });
  beforeAll(() => pool.start());
  afterAll(() => pool.stop());

  it('verifies batches on worker threads with the same answers as verifyMessage', async () => {
    const msgs: Message[] = [];
    const keys: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      const m = signMessage(createMessage({ payload: { i } }), i % 2 ? alice : bob);
      const variant = i % 5;
      if (variant === 0)
        msgs.push({ ...m, payload: { i: -1 } } as Message); // tampered
      else msgs.push(decodeMessage(encodeMessage(m)));
      keys.push(variant === 1 ? mallory.publicKey : (i % 2 ? alice : bob).publicKey); // wrong key
    }
    msgs.push(createMessage({ sender: alice.fingerprint })); // unsigned
    keys.push(alice.publicKey);
    const got = await pool.verifyBatch(msgs, keys);
    expect(got).toEqual(msgs.map((_, i) => i < 50 && i % 5 > 1));
  });

  it('feeds receiveVerified, keeping order and rejecting forgeries and replays', async () => {
    const { verifier, signed } = setup(Date.now());
    const hub = new LocalHub();
    const a = new LocalTransport(alice.fingerprint, { hub });
    const b = new LocalTransport(bob.fingerprint, { hub });
    await a.start();
    await b.start();
    const sent: Message[] = [];
    for (let i = 0; i < 300; i++) {
      const m = signed({ payload: i });
      sent.push(m);
      await a.send(m);
      if (i % 50 === 0) await a.send({ ...m, payload: 'forged' } as Message);
      if (i % 70 === 0) await a.send(m);
    }
    const got: unknown[] = [];
    for (;;) {
      const m = await receiveVerified(b, verifier, { pool, timeoutMs: 20, batchSize: 64 });
      if (!m) break;
      got.push(m.payload);
    }
    expect(got).toEqual(sent.map((m) => m.payload));
    expect(verifier.rejections.bad_signature).toBe(6);
    expect(verifier.rejections.replay).toBe(5);
    await a.stop();
    await b.stop();
  });

  it('checkBatch verifies on the main thread when the pool fails: nothing lost, nothing let through', async () => {
    const { verifier, signed } = setup(Date.now());
    const stopped = new VerifierPool({ size: 1 }); // never started: every batch is refused
    const good = [signed({ payload: 1 }), signed({ payload: 2 })];
    const forged = { ...signed({ payload: 3 }), payload: 'forged' } as Message;
    const verdicts = await verifier.checkBatch([good[0]!, forged, good[1]!], stopped);
    expect(verdicts.map((v) => v.ok)).toEqual([true, false, true]);
    expect(verifier.rejections.bad_signature).toBe(1);
    expect(verifier.verified).toBe(2);
  });

  it('refuses work before start and after stop, and terminates its workers', async () => {
    const p = new VerifierPool({ size: 1 });
    await expect(p.verifyBatch([], [])).rejects.toMatchObject({ name: 'NotStartedError' });
    await p.start();
    const m = signMessage(createMessage(), alice);
    expect(await p.verifyBatch([m], [alice.publicKey])).toEqual([true]);
    await p.stop();
    await expect(p.verifyBatch([m], [alice.publicKey])).rejects.toMatchObject({ name: 'NotStartedError' });
  });
});
