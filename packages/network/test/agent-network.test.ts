import { describe, expect, it } from 'vitest';
import { Agent, Identity, createMessage, createTopic, signMessage, type Decision } from '@converge/core';
import { AgentNetwork, DiscoveryService, IdentityRegistry, LocalHub, LocalTransport, receiveVerified } from '../src/index.js';

class Echo extends Agent {
  decide(): Decision[] {
    return [];
  }
}

describe('AgentNetwork', () => {
  it('registers agents in discovery and the registry, sends, broadcasts and discovers', async () => {
    const hub = new LocalHub();
    const alice = new Echo({ capabilities: ['translate'], topics: [createTopic('tasks')] });
    const bob = Identity.generate();
    const ta = new LocalTransport(alice.id, { hub });
    const tb = new LocalTransport(bob.fingerprint, { hub });
    await ta.start();
    await tb.start();
    const registry = new IdentityRegistry();
    const discovery = new DiscoveryService();
    const net = new AgentNetwork(ta, { registry, discovery });
    await net.registerAgent(alice);
    await net.registerAgent({ id: bob.fingerprint, publicKey: bob, capabilities: [{ name: 'summarize' }] });
    expect(registry.has(alice.id)).toBe(true);
    expect(registry.has(bob.fingerprint)).toBe(true);
    expect((await net.discover({ capabilities: ['translate'] })).map((d) => d.id)).toEqual([alice.id]);
    expect((await net.discover({ topics: ['tasks'], capabilities: ['summarize'], match: 'any' })).length).toBe(2);

    const m = alice.signMessage(createMessage({ recipient: bob.fingerprint, payload: 'hi' }));
    await net.send(m);
    expect((await receiveVerified(tb, registry, { timeoutMs: 1000 }))?.id).toBe(m.id);
    const all = alice.signMessage(createMessage({ payload: 'all' }));
    await net.broadcast(all);
    expect((await receiveVerified(tb, registry, { timeoutMs: 1000 }))?.id).toBe(all.id);
    await expect(net.broadcast(m)).rejects.toMatchObject({ name: 'ValidationError' });

    expect(await net.unregisterAgent(bob.fingerprint)).toBe(true);
    expect(registry.has(bob.fingerprint)).toBe(false);
    expect(await discovery.get(bob.fingerprint)).toBeUndefined();
    // Once unregistered, bob's messages no longer verify.
    const fromBob = signMessage(createMessage({ recipient: alice.id }), bob);
    await tb.send(fromBob);
    expect(await receiveVerified(ta, registry, { timeoutMs: 10 })).toBeNull();
    await ta.stop();
    await tb.stop();
  });

  it('refuses to discover without a DiscoveryService', async () => {
    const net = new AgentNetwork(new LocalTransport('a', { hub: new LocalHub() }));
    await expect(net.discover({})).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
