import { describe, expect, it } from 'vitest';
import { Agent, Decisions, Identity, createMessage, createTopic, verifyMessage, type Decision, type Message, type Task } from '@converge/core';

class Echo extends Agent {
  seen: number[] = [];
  decide(messages: readonly Message[], tasks: readonly Task[]): Decision[] {
    this.seen.push(messages.length, tasks.length);
    return messages.map((m) => Decisions.sendMessage(m.sender, m.payload));
  }
}

describe('Agent', () => {
  it('uses the given identity; its id is the fingerprint', () => {
    const identity = Identity.generate();
    const a = new Echo({ identity });
    expect(a.identity).toBe(identity);
    expect(a.id).toBe(identity.fingerprint);
  });

  it('generates an identity when none is given', () => {
    const a = new Echo();
    const b = new Echo();
    expect(a.identity.canSign).toBe(true);
    expect(a.id).not.toBe(b.id);
  });

  it('holds capabilities and a copy of its topics', () => {
    const topics = [createTopic('t')];
    const a = new Echo({ capabilities: ['math', { name: 'io', version: '2', description: '', constraints: {}, costs: {} }], topics });
    topics.push(createTopic('u'));
    expect(a.capabilities.names()).toEqual(['math', 'io']);
    expect(a.topics).toHaveLength(1);
  });

  it("decide is the subclass's; the hooks default to no-ops", async () => {
    const a = new Echo();
    const decisions = a.decide([createMessage({ sender: 's', payload: 1 })], []);
    expect(decisions).toEqual([{ type: 'SendMessage', recipient: 's', payload: 1 }]);
    expect(a.seen).toEqual([1, 0]);
    expect(a.onStart()).toBeUndefined();
    expect(a.onStop()).toBeUndefined();
    expect(a.onTick()).toBeUndefined();
  });

  it('signMessage signs with its identity and sets the sender', () => {
    const a = new Echo();
    const m = a.signMessage(createMessage({ payload: 'x' }));
    expect(m.sender).toBe(a.id);
    expect(verifyMessage(m, a.identity.publicKey)).toBe(true);
  });
});
