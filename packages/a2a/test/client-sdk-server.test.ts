// Our client (connectA2AAgent) against a remote agent built with the official SDK's server
// classes: the card's signature is verified and gated by trust, the agent is registered in
// discovery with its skills, tasks are delegated (streamed; a cut stream is resumed with
// GetTask + SubscribeToTask), and results reach an agent's next turn as outcomes.
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, Decisions, Identity, ToolRegistry, type DecideContext, type Decision, type Outcome } from '@converge/core';
import { DiscoveryService } from '@converge/network';
import { TrustModel } from '@converge/policy';
import { AgentRuntime } from '@converge/runtime';
import { A2ATaskFailedError, AgentCardSignatureError, UntrustedAgentError, connectA2AAgent, registerA2APeer } from '@converge/a2a';
import { startSdkAgent, type SdkAgent } from './support/sdk-server.js';

const agents: SdkAgent[] = [];
const runtimes: AgentRuntime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.stop()));
  await Promise.all(agents.splice(0).map((a) => a.close()));
});
async function sdkAgent(...args: Parameters<typeof startSdkAgent>): Promise<SdkAgent> {
  const a = await startSdkAgent(...args);
  agents.push(a);
  return a;
}

/** A fetch that cuts the first `cuts` event streams after their first chunk (a dropped connection). */
function cuttingFetch(cuts: number): { fetch: typeof fetch; cut: () => number } {
  let done = 0;
  const f: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (done >= cuts || !res.body || !res.headers.get('content-type')?.includes('text/event-stream')) return res;
    done++;
    const reader = res.body.getReader();
    let chunks = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        if (chunks >= 1) {
          await reader.cancel();
          ctrl.error(new TypeError('connection reset (injected)'));
          return;
        }
        const { value, done: end } = await reader.read();
        if (end) return ctrl.close();
        chunks++;
        ctrl.enqueue(value);
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
  return { fetch: f, cut: () => done };
}

describe('a remote A2A agent (official SDK server) as a Converge peer', () => {
  it('verifies the card (the key from its JWKS), names the peer by the key fingerprint, and delegates a streamed task', async () => {
    const sdk = await sdkAgent();
    const remote = await connectA2AAgent(sdk.url);
    expect(remote.keyFingerprint).toBe(sdk.keyFingerprint);
    expect(remote.skills()).toEqual(['upper', 'sum']);
    const seen: string[] = [];
    const r = await remote.delegate({ text: 'hello a2a' }, { onEvent: (e) => seen.push(e.payload?.$case ?? '?') });
    expect(r.result).toBe('HELLO A2A');
    expect(r.reconnects).toBe(0);
    expect(seen[0]).toBe('task');
    expect(seen).toContain('artifactUpdate');
    expect((await remote.delegate({ data: { numbers: [2, 3, 4] }, skill: 'sum' })).result).toBe(9);
  });

  it('refuses an unsigned card and a card changed after signing', async () => {
    const unsigned = await sdkAgent({ unsigned: true });
    await expect(connectA2AAgent(unsigned.url)).rejects.toBeInstanceOf(AgentCardSignatureError);
    const tampered = await sdkAgent({ tamper: true });
    await expect(connectA2AAgent(tampered.url)).rejects.toThrow(/no signature of the agent card verifies/);
  });

  it('gates the key by pinning and by the trust model, and moves trust with the outcomes', async () => {
    const sdk = await sdkAgent({ fail: true });
    await expect(connectA2AAgent(sdk.url, { trustedKeys: ['00'.repeat(32)] })).rejects.toBeInstanceOf(UntrustedAgentError);
    const trust = new TrustModel({ learningRate: 0.5 });
    const remote = await connectA2AAgent(sdk.url, { trust, minTrust: 0.4, trustedKeys: [sdk.keyFingerprint] });
    await expect(remote.delegate({ text: 'x' })).rejects.toBeInstanceOf(A2ATaskFailedError);
    expect(trust.score(sdk.keyFingerprint)).toBeLessThan(0.4);
    await expect(remote.delegate({ text: 'x' })).rejects.toBeInstanceOf(UntrustedAgentError);
    expect(sdk.executed).toHaveLength(1);
    await expect(connectA2AAgent(sdk.url, { trust, minTrust: 0.4 })).rejects.toBeInstanceOf(UntrustedAgentError);
  });

  it('resumes a cut stream with GetTask + SubscribeToTask: one remote task, completed', async () => {
    const sdk = await sdkAgent({ workMs: 400 });
    const cutter = cuttingFetch(1);
    const remote = await connectA2AAgent(sdk.url, { fetch: cutter.fetch, reconnectDelayMs: 20 });
    const r = await remote.delegate({ text: 'resume me' });
    expect(cutter.cut()).toBe(1);
    expect(r.reconnects).toBeGreaterThanOrEqual(1);
    expect(r.result).toBe('RESUME ME');
    expect(sdk.executed).toHaveLength(1);
    expect(remote.stats()).toMatchObject({ completed: 1, reconnects: r.reconnects });
  });

  it('registers in discovery with its skills as capabilities, signed by the bridge identity, the card key in the metadata', async () => {
    const sdk = await sdkAgent();
    const remote = await connectA2AAgent(sdk.url);
    const discovery = new DiscoveryService();
    const bridge = Identity.generate();
    await registerA2APeer(discovery, remote, bridge);
    const found = await discovery.query({ capabilities: ['upper'] });
    expect(found.map((d) => d.id)).toEqual([bridge.fingerprint]);
    expect(found[0]!.metadata.a2a_key).toBe(sdk.keyFingerprint);
    expect(found[0]!.endpoints[0]).toMatch(/^a2a\+http:\/\/127\.0\.0\.1:\d+\/rpc$/);
  });

  it('as a tool: an agent invokes it and sees the result (ok) or the failure (failed) as outcomes in its next turn', async () => {
    const good = await connectA2AAgent((await sdkAgent()).url);
    const bad = await connectA2AAgent((await sdkAgent({ fail: true })).url);
    const tools = new ToolRegistry([good.tool('a2a/upper'), bad.tool('a2a/broken')]);
    const outcomes: Outcome[] = [];
    class Caller extends Agent {
      turn = 0;
      decide(_m: unknown, _t: unknown, ctx: DecideContext): Decision[] {
        outcomes.push(...ctx.outcomes);
        return this.turn++ === 0 ? [Decisions.invokeTool('a2a/upper', { text: 'via tool' }), Decisions.invokeTool('a2a/broken', { text: 'nope' })] : [];
      }
    }
    const rt = new AgentRuntime({
      agent: new Caller({ identity: Identity.generate() }),
      tickIntervalMs: 50,
      sweepIntervalMs: 0,
      executorOptions: { tools, toolAllowlist: ['a2a/upper', 'a2a/broken'] },
    });
    runtimes.push(rt);
    await rt.start();
    for (let i = 0; i < 200 && outcomes.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(outcomes.map((o) => [o.decision.type === 'InvokeTool' && o.decision.tool, o.status])).toEqual([
      ['a2a/upper', 'ok'],
      ['a2a/broken', 'failed'],
    ]);
    expect(outcomes[0]!.result).toBe('VIA TOOL');
    expect(outcomes[1]!.error?.code).toBe('ERR_A2A_TASK_FAILED');
  });
});
