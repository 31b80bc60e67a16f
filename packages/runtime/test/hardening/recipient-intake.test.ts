// H2 at the runtime: a frame A signed for B, injected at C over C's own TCP listener, must not
// reach C's decide, whether or not C's runtime has a verifier. The refusal is counted as its own
// reason (`wrong_recipient`); a broadcast from A and a message for C still arrive.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, Identity, createMessage, encodeMessage, signMessage, type Decision, type Message } from '@converge/core';
import { IdentityRegistry, MessageVerifier } from '@converge/network';
import { TcpTransport } from '@converge/transport-tcp';
import { MetricsCollector } from '@converge/observability';
import { AgentRuntime } from '../../src/index.js';
import { waitUntil } from '../helpers.js';

class RecordingAgent extends Agent {
  readonly seen: Message[] = [];
  decide(messages: readonly Message[]): Decision[] {
    this.seen.push(...messages);
    return [];
  }
}

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

function frameOf(message: Message): Buffer {
  const body = encodeMessage(message);
  const frame = Buffer.alloc(4 + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.set(body, 4);
  return frame;
}

async function inject(port: number, frames: Buffer[]): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  for (const f of frames) socket.write(f);
  await new Promise<void>((resolve) => socket.end(resolve));
}

describe.each([
  ['without a verifier', false],
  ['with a verifier that does not know who receives', true],
])('runtime intake %s (H2)', (_title, withVerifier) => {
  it('refuses a message signed for another agent, counted as wrong_recipient; broadcasts and own messages pass', async () => {
    const a = Identity.generate();
    const b = Identity.generate();
    const agent = new RecordingAgent({ identity: Identity.generate() });
    const transport = new TcpTransport({ host: '127.0.0.1', port: 0, agentId: agent.id });
    const metrics = new MetricsCollector();
    const registry = new IdentityRegistry();
    registry.register(a);
    const verifier = withVerifier ? new MessageVerifier({ registry }) : undefined;
    const rt = new AgentRuntime({ agent, transport, metrics, verifier, tickIntervalMs: 1e9, sweepIntervalMs: 0 });
    running.push(rt, transport);
    await rt.start();

    const forB = signMessage(createMessage({ recipient: b.fingerprint, payload: { for: 'b' } }), a);
    const broadcast = signMessage(createMessage({ recipient: null, payload: { for: 'all' } }), a);
    const forC = signMessage(createMessage({ recipient: agent.id, payload: { for: 'c' } }), a);
    await inject(transport.port, [frameOf(forB), frameOf(broadcast), frameOf(forC)]);

    await waitUntil(() => agent.seen.length >= 2 && rt.rejectedMessages >= 1);
    await new Promise((r) => setTimeout(r, 50)); // let a wrongly accepted third message show up
    expect(agent.seen.map((m) => m.id).sort()).toEqual([broadcast.id, forC.id].sort());
    expect(rt.rejectedMessages).toBe(1);
    const rejected = metrics.counter('converge_runtime_messages_rejected_total', 'x', ['reason']);
    expect(rejected.get({ reason: 'wrong_recipient' })).toBe(1);
  });
});
