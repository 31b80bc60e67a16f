// M5: a `transport.tcp` topic routed bytes to any host:port, past ActionPolicy.allowRecipients.
// The executor now sends through an endpoint topic only to a configured endpoint, or when the
// transport's address book (discovery, addPeer) knows the recipient; anything else is refused
// (EndpointNotAllowedError, outcome refused, counted) before a byte leaves.
import { afterEach, describe, expect, it } from 'vitest';
import { Decisions, Identity, createTopic, type Decision } from '@converge/core';
import { TcpTransport, TCP_TOPIC_NAMESPACE } from '@converge/transport-tcp';
import { ActionPolicy } from '@converge/policy';
import { MetricsCollector } from '@converge/observability';
import { EndpointNotAllowedError, StandardExecutor, type ExecutionContext, type StandardExecutorOptions } from '../../src/index.js';

const transports: TcpTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.stop()));
});

async function tcp(agentId: string): Promise<TcpTransport> {
  const t = new TcpTransport({ host: '127.0.0.1', port: 0, agentId, reconnect: { maxAttempts: 1 } });
  transports.push(t);
  await t.start();
  return t;
}

async function setup(extra: Partial<StandardExecutorOptions> = {}) {
  const alice = Identity.generate();
  const victim = Identity.generate();
  const aliceT = await tcp(alice.fingerprint);
  const victimT = await tcp(victim.fingerprint);
  const metrics = new MetricsCollector();
  const executor = new StandardExecutor({ transport: aliceT, metrics, ...extra });
  const ctx: ExecutionContext = { agentId: alice.fingerprint, identity: alice, leases: new Map() };
  const toVictim = (recipient: string | null = null): Decision =>
    Decisions.sendMessage(recipient, { hi: 1 }, { topics: [createTopic(TCP_TOPIC_NAMESPACE, { host: '127.0.0.1', port: victimT.port })] });
  const refused = () => metrics.counter('converge_executor_endpoints_refused_total', 'x', []).get();
  return { alice, victim, aliceT, victimT, executor, ctx, toVictim, refused };
}

describe('endpoint routing under policy (M5)', () => {
  it('refuses a broadcast, or a message to an unknown recipient, routed by topic to an endpoint not allowed', async () => {
    const s = await setup();
    const [broadcast, unknown] = await s.executor.execute([s.toVictim(null), s.toVictim(Identity.generate().fingerprint)], s.ctx);
    for (const r of [broadcast, unknown]) {
      expect(r).toMatchObject({ ok: false, outcome: 'refused' });
      expect((r as { error: Error }).error).toBeInstanceOf(EndpointNotAllowedError);
    }
    expect(s.refused()).toBe(2);
    // Nothing reached the endpoint (hang guard only: a routed frame arrives in a few ms).
    expect(await s.victimT.receive({ timeoutMs: 300 })).toBeNull();
    expect(s.aliceT.stats).toMatchObject({ framesSent: 0 });
  });

  it('sends to an endpoint configured in allowEndpoints', async () => {
    const probe = await setup();
    const s = await setup({ allowEndpoints: [`127.0.0.1:${probe.victimT.port}`] });
    const decision = Decisions.sendMessage(null, { hi: 2 }, { topics: [createTopic(TCP_TOPIC_NAMESPACE, { host: '127.0.0.1', port: probe.victimT.port })] });
    const [r] = await s.executor.execute([decision], s.ctx);
    expect(r).toMatchObject({ ok: true });
    expect((await probe.victimT.receive({ timeoutMs: 10_000 }))?.payload).toEqual({ hi: 2 });
  });

  it('sends when the address book knows the recipient (the book routes, the topic does not)', async () => {
    const s = await setup();
    s.aliceT.addPeer(s.victim.fingerprint, s.victimT.address);
    const [r] = await s.executor.execute([s.toVictim(s.victim.fingerprint)], s.ctx);
    expect(r).toMatchObject({ ok: true });
    expect((await s.victimT.receive({ timeoutMs: 10_000 }))?.payload).toEqual({ hi: 1 });
  });

  it('ActionPolicy with allowRecipients refuses an endpoint topic unless allowEndpoints lists it', async () => {
    const s = await setup({ allowEndpoints: ['*'] });
    const [r] = await s.executor.execute([s.toVictim(null)], s.ctx);
    expect(r).toMatchObject({ ok: true }); // '*': the unchecked behaviour, when asked for
    const policy = new ActionPolicy({ allow: ['SendMessage'], allowRecipients: [null] });
    expect(policy.check(s.toVictim(null))).toMatchObject({ allowed: false, reason: `endpoint 127.0.0.1:${s.victimT.port} is not allowed` });
    const open = new ActionPolicy({ allow: ['SendMessage'], allowRecipients: [null], allowEndpoints: [`127.0.0.1:${s.victimT.port}`] });
    expect(open.check(s.toVictim(null))).toEqual({ allowed: true });
  });
});
