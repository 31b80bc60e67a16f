// Attacks on the verifier (issue 21: H1, H2, M7, M8), each refused.
import { describe, expect, it } from 'vitest';
import { Identity, NotStartedError, createMessage, signMessage, type Message } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { IdentityRegistry, LocalHub, LocalTransport, MessageVerifier, receiveVerified, REJECTION_REASONS } from '../src/index.js';
import { REPLAY_PARTITION_OVERHEAD_BYTES, REPLAY_STORE_PREFIX, replayEntryBytes } from '../src/index.js';

const alice = Identity.generate();
const bob = Identity.generate();
const carol = Identity.generate();
const T0 = 1_700_000_000_000;

function registry(): IdentityRegistry {
  const r = new IdentityRegistry();
  for (const id of [alice, bob, carol]) r.register(id);
  return r;
}

function signed(who: Identity, at: number, init: Parameters<typeof createMessage>[0] = {}): Message {
  return signMessage(createMessage({ recipient: bob.fingerprint, timestamp: at, payload: 1, ...init }), who);
}

describe('replay state is per sender (H1)', () => {
  it("a flood from one agent does not flush another agent's replay state", () => {
    const now = T0;
    const verifier = new MessageVerifier({ registry: registry(), clock: () => now, replayIdsPerSender: 50 });
    const captured = signed(carol, now);
    expect(verifier.check(captured).ok).toBe(true);
    // Alice floods: ten times what her partition holds.
    for (let i = 0; i < 500; i++) expect(verifier.check(signed(alice, now - 500 + i, { payload: i })).ok).toBe(true);
    expect(verifier.replayEvictions).toBeGreaterThan(0);
    expect(verifier.check(captured)).toEqual({ ok: false, reason: 'replay' });
    // Carol is not degraded by Alice's flood: her next message goes through.
    expect(verifier.check(signed(carol, now)).ok).toBe(true);
  });

  it('an id a sender had to forget stays refused (the floor), never accepted again', () => {
    const now = T0;
    const verifier = new MessageVerifier({ registry: registry(), clock: () => now, replayIdsPerSender: 10 });
    const first = signed(alice, now - 1000);
    expect(verifier.check(first).ok).toBe(true);
    for (let i = 0; i < 100; i++) verifier.check(signed(alice, now - 999 + i));
    expect(verifier.replayCache.size).toBeLessThanOrEqual(10);
    expect(verifier.check(first)).toEqual({ ok: false, reason: 'replay' });
  });

  it('when the whole cache is over budget, the sender adding pays, never another', () => {
    const now = T0;
    const budget = 2 * REPLAY_PARTITION_OVERHEAD_BYTES + 20 * replayEntryBytes('00000000-0000-4000-8000-000000000000');
    const verifier = new MessageVerifier({ registry: registry(), clock: () => now, replayCacheBytes: budget });
    const captured = signed(carol, now);
    expect(verifier.check(captured).ok).toBe(true);
    for (let i = 0; i < 200; i++) expect(verifier.check(signed(alice, now + i, { payload: i })).ok).toBe(true);
    expect(verifier.replayCache.bytes).toBeLessThanOrEqual(budget);
    expect(verifier.check(captured)).toEqual({ ok: false, reason: 'replay' });
  });
});

describe('recipient check (H2)', () => {
  it('refuses a message addressed to another agent as wrong_recipient; broadcasts and own messages pass', () => {
    const now = T0;
    const verifier = new MessageVerifier({ registry: registry(), clock: () => now, self: bob });
    expect(REJECTION_REASONS).toContain('wrong_recipient');
    expect(verifier.check(signed(alice, now, { recipient: carol.fingerprint }))).toEqual({ ok: false, reason: 'wrong_recipient' });
    expect(verifier.check(signed(alice, now, { recipient: bob.fingerprint }))).toEqual({ ok: true });
    expect(verifier.check(signed(alice, now, { recipient: null }))).toEqual({ ok: true });
    expect(verifier.rejections.wrong_recipient).toBe(1);
  });

  it('accepts a list of receiving ids (several agents behind one verifier)', () => {
    const now = T0;
    const verifier = new MessageVerifier({ registry: registry(), clock: () => now, self: [bob.fingerprint, carol] });
    expect(verifier.check(signed(alice, now, { recipient: carol.fingerprint })).ok).toBe(true);
    expect(verifier.check(signed(bob, now, { recipient: alice.fingerprint })).ok).toBe(false);
  });
});

describe('replay cache bytes (M7)', () => {
  it('refuses an in-memory message with an oversized id as malformed, so the cache never holds it', () => {
    const now = T0;
    const verifier = new MessageVerifier({ registry: registry(), clock: () => now });
    // A registered sender signs its 8 MiB id (createMessage would refuse it; signMessage does
    // not look): the signature is valid, so only the id bound keeps it out of the cache.
    const unsigned = { ...createMessage({ recipient: bob.fingerprint, timestamp: now, payload: 1 }), id: 'x'.repeat(8 * 1024 * 1024) } as Message;
    const huge = signMessage(unsigned, alice);
    expect(verifier.check(huge)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifier.replayCache.bytes).toBe(0);
    // A signed id of just over the bound is refused too; one at the bound is accepted.
    const over = signMessage({ ...unsigned, id: 'y'.repeat(129) }, alice);
    expect(verifier.check(over)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifier.check(signMessage({ ...unsigned, id: 'z'.repeat(128) }, alice))).toEqual({ ok: true });
    expect(verifier.replayCache.bytes).toBeLessThan(1024);
  });

  it('counts the id bound in UTF-8 bytes, as the wire does: 128 two-byte characters are refused, 64 accepted', () => {
    const now = T0;
    const verifier = new MessageVerifier({ registry: registry(), clock: () => now });
    const unsigned = createMessage({ recipient: bob.fingerprint, timestamp: now, payload: 1 });
    expect(verifier.check(signMessage({ ...unsigned, id: 'é'.repeat(128) }, alice))).toEqual({ ok: false, reason: 'malformed' });
    expect(verifier.check(signMessage({ ...unsigned, id: 'é'.repeat(64) }, alice))).toEqual({ ok: true });
  });
});

describe('replay state across a restart (M8)', () => {
  it('with a replayStore, a message accepted before the restart is refused after it', async () => {
    const store = new MemoryStore();
    const now = T0;
    const before = new MessageVerifier({ registry: registry(), clock: () => now, replayStore: store });
    await before.start();
    const hub = new LocalHub();
    const a = new LocalTransport(alice.fingerprint, { hub });
    const b = new LocalTransport(bob.fingerprint, { hub });
    await a.start();
    await b.start();
    const m = signed(alice, now - 10);
    await a.send(m);
    expect((await receiveVerified(b, before, { timeoutMs: 1000 }))?.id).toBe(m.id);
    // receive() handed the message out only after its sender's mark was stored.
    expect(await store.get(REPLAY_STORE_PREFIX + alice.fingerprint)).toBe(now - 10);
    await a.stop();
    await b.stop();

    const after = new MessageVerifier({ registry: registry(), clock: () => now + 1000, replayStore: store });
    expect(() => after.check(m)).toThrow(NotStartedError);
    await after.start();
    expect(after.check(m)).toEqual({ ok: false, reason: 'replay' });
    // Newer messages of the same sender, and other senders, are unaffected.
    expect(after.check(signed(alice, now + 500)).ok).toBe(true);
    expect(after.check(signed(carol, now - 10)).ok).toBe(true);
  });

  it('without one, a restarted receiver accepts the same message again inside the window (the documented default)', () => {
    const now = T0;
    const m = signed(alice, now);
    expect(new MessageVerifier({ registry: registry(), clock: () => now }).check(m).ok).toBe(true);
    expect(new MessageVerifier({ registry: registry(), clock: () => now + 1000 }).check(m).ok).toBe(true);
  });

  it('drops stored marks that are past the window on load', async () => {
    const store = new MemoryStore();
    await store.put(REPLAY_STORE_PREFIX + alice.fingerprint, T0 - 10 * 60_000);
    const v = new MessageVerifier({ registry: registry(), clock: () => T0, replayStore: store });
    await v.start();
    expect(await store.list(REPLAY_STORE_PREFIX)).toEqual([]);
  });
});
