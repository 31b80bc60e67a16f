import { expect, it } from 'vitest';
import { Identity, createMessage, signMessage, verifyMessage } from '@converge/core';
import { AgentRuntime } from '@converge/runtime';
import { GreeterAgent } from '../src/greeter-agent.js';
import { Hub, HubTransport } from '../src/hub-transport.js';

// There is no agent compliance suite: an agent is checked by running it in an AgentRuntime
// over a transport that passed its suite, and asserting on what it sends.
it('answers a greeting request through the runtime, signed by the agent', async () => {
  const hub = new Hub();
  const greeter = new GreeterAgent();
  const runtime = new AgentRuntime({ agent: greeter, transport: new HubTransport(greeter.id, hub) });
  const alice = Identity.generate();
  const client = new HubTransport(alice.fingerprint, hub);
  await runtime.start();
  await client.start();
  try {
    await client.send(signMessage(createMessage({ recipient: greeter.id, payload: { name: 'alice' } }), alice));
    await client.send(signMessage(createMessage({ recipient: greeter.id, payload: 'not a request' }), alice));
    const reply = await client.receive({ timeoutMs: 10_000 });
    expect(reply?.payload).toEqual({ greeting: 'hello, alice' });
    expect(verifyMessage(reply!, greeter.identity)).toBe(true);
    await expect.poll(() => greeter.ignored, { timeout: 10_000 }).toBe(1);
  } finally {
    await client.stop();
    await runtime.stop();
  }
});
