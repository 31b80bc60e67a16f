// M4 in a runtime: an LLM agent whose decisions take effect gets another turn at once; it must
// not call its model again on the same input (the loop idles), and when its call budget is
// spent the messages of the turn stay queued and are decided once the budget allows.
import { describe, expect, it } from 'vitest';
import { Identity } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { LLMAgent } from '@converge/extensions/llm';
import { PromptRecordingProvider } from '../../../../test/support/llm-provider.js';
import { AgentRuntime } from '../../src/index.js';
import { startPeer, waitUntil, stoppedAfterEach } from '../helpers.js';

// Stopped in reverse order of these lines (vitest runs after-hooks as a stack): runtimes first.
const peers = stoppedAfterEach<LocalTransport>();
const running = stoppedAfterEach<AgentRuntime>();

/** Always answers with one broadcast SendMessage: executes ok, so the runtime re-runs the turn. */
const chatty = () => new PromptRecordingProvider('chatty', '[{"type":"SendMessage","recipient":null,"payload":{"hello":1}}]');

async function setup(agent: LLMAgent) {
  const hub = new LocalHub();
  const rt = new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub }), tickIntervalMs: 1e9, sweepIntervalMs: 0 });
  running.push(rt);
  await rt.start();
  const toAgent = await startPeer(hub, agent.id, peers);
  const send = (text: string) => toAgent({ text });
  return { rt, send };
}

describe('an LLM agent in a runtime (M4)', () => {
  it('asks its model once per new input, not in a loop', async () => {
    const provider = chatty();
    const agent = new LLMAgent({ provider, identity: Identity.generate() });
    const { rt, send } = await setup(agent);
    // The first turn (at start, nothing seen yet) may ask once; then only new input does.
    await waitUntil(() => rt.turns >= 1);
    await send('one');
    await waitUntil(() => provider.prompts.some((p) => p.includes('one')));
    const calls = provider.prompts.length;
    await waitUntil(() => agent.stats.idleSkips >= 1);
    const turns = rt.turns;
    // A loop would call the model thousands of times in this interval (hang guard, not a goal).
    await new Promise((r) => setTimeout(r, 200));
    expect(provider.prompts.length).toBe(calls);
    expect(rt.turns).toBe(turns);
    await send('two');
    await waitUntil(() => provider.prompts.length > calls);
    expect(provider.prompts[calls]).toContain('two');
  });

  it('keeps the messages of a turn refused by the call budget and decides them when it allows', async () => {
    const provider = chatty();
    const agent = new LLMAgent({ provider, identity: Identity.generate(), maxCallsPerWindow: 1, callWindowMs: 300 });
    const { rt, send } = await setup(agent);
    await waitUntil(() => rt.turns >= 1);
    await send('first');
    await waitUntil(() => agent.stats.budgetRefusals >= 1 || provider.prompts.some((p) => p.includes('first')));
    await send('second');
    await waitUntil(() => provider.prompts.some((p) => p.includes('second')), 10_000);
    expect(agent.stats.budgetRefusals).toBeGreaterThanOrEqual(1);
    expect(provider.prompts.some((p) => p.includes('first'))).toBe(true);
    expect(rt.inbox.dropped).toBe(0);
  });
});
