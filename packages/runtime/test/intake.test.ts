// The runtime's intake: one bounded queue from transport to agent (the transport's), and each
// refused message counted and logged exactly once, on the main thread or a verifier pool.
import { describe, expect, it } from 'vitest';
import {
  Agent,
  ConfigError,
  Identity,
  TRANSPORT_BRAND,
  createMessage,
  noopLogger,
  signMessage,
  type Decision,
  type Logger,
  type Message,
  type ReceiveOptions,
  type Transport,
} from '@converge/core';
import { IdentityRegistry, LocalHub, LocalTransport, MessageVerifier, VerifierPool } from '@converge/network';
import { MetricsCollector } from '@converge/observability';
import { AgentRuntime } from '../src/index.js';
import { stoppedAfterEach, waitUntil } from './helpers.js';

class RecordingAgent extends Agent {
  readonly seen: Message[] = [];
  gate: Promise<void> | undefined;
  async decide(messages: readonly Message[]): Promise<Decision[]> {
    this.seen.push(...messages);
    if (this.gate && messages.length > 0) await this.gate;
    return [];
  }
}

// A transport fed by the test: it can hand the runtime any message, whoever it is addressed to.
class FeedTransport implements Transport {
  readonly [TRANSPORT_BRAND] = true as const;
  started = false;
  readonly #queue: Message[] = [];
  #wake: (() => void) | undefined;
  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.started = false;
    this.#wake?.();
  }
  async send(): Promise<void> {}
  feed(...messages: Message[]): void {
    this.#queue.push(...messages);
    this.#wake?.();
  }
  tryReceive(): Message | null {
    return this.#queue.shift() ?? null;
  }
  async receive(options?: ReceiveOptions): Promise<Message | null> {
    while (this.started && !options?.signal?.aborted) {
      const m = this.tryReceive();
      if (m) return m;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        options?.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    return null;
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (let m = await this.receive(); m !== null; m = await this.receive()) yield m;
  }
}

const running = stoppedAfterEach<{ stop(): Promise<unknown> }>();

// Every warn line, by message text.
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = { ...noopLogger, warn: (_obj, msg) => void lines.push(msg ?? ''), child: () => logger };
  return logger;
}

// The sum of every series of counter `name` in the exposition text.
async function total(metrics: MetricsCollector, name: string): Promise<number> {
  const series = (await metrics.metrics()).split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return series.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function stack(usePool: boolean) {
  const sender = Identity.generate();
  const registry = new IdentityRegistry();
  registry.register(sender);
  const metrics = new MetricsCollector();
  const lines: string[] = [];
  const logger = recordingLogger(lines);
  const agent = new RecordingAgent({ identity: Identity.generate() });
  const pool = usePool ? new VerifierPool({ size: 2 }) : undefined;
  const poolBatches: number[] = [];
  if (pool) {
    running.push(pool);
    const verifyBatch = pool.verifyBatch.bind(pool);
    pool.verifyBatch = (messages, keys, options) => (poolBatches.push(messages.length), verifyBatch(messages, keys, options));
  }
  const transport = new FeedTransport();
  const rt = new AgentRuntime({
    agent,
    transport,
    verifier: new MessageVerifier({ registry, metrics, logger }),
    verifierPool: pool,
    metrics,
    logger,
    tickIntervalMs: 1e9,
    sweepIntervalMs: 0,
  });
  running.push(rt);
  await rt.start();
  return { agent, rt, transport, sender, metrics, lines, poolBatches };
}

describe.each([
  ['on the main thread', false],
  ['on a verifier pool', true],
])('runtime intake, verification %s', (_title, usePool) => {
  it('counts and logs one bad message exactly once (verifier and runtime together)', async () => {
    const s = await stack(usePool);
    const good = [1, 3].map((n) => signMessage(createMessage({ recipient: s.agent.id, payload: { n } }), s.sender));
    const signed = signMessage(createMessage({ recipient: s.agent.id, payload: { n: 2 } }), s.sender);
    const forged: Message = { ...signed, signature: new Uint8Array(64).fill(7) };
    s.transport.feed(good[0]!, forged, good[1]!); // one batch: the pool verifies them together
    await waitUntil(() => s.agent.seen.length === 2 && s.rt.rejectedMessages === 1);
    expect(s.agent.seen.map((m) => m.id)).toEqual(good.map((m) => m.id));
    expect(s.poolBatches).toEqual(usePool ? [3] : []); // the signatures went to the workers in one batch
    expect((await total(s.metrics, 'converge_messages_rejected_total')) + (await total(s.metrics, 'converge_runtime_messages_rejected_total'))).toBe(1);
    expect(s.lines.filter((l) => l === 'message rejected')).toHaveLength(1);
    expect(await total(s.metrics, 'converge_runtime_messages_received_total')).toBe(2);
  });

  it('counts and logs a message addressed to another agent exactly once (the runtime refuses it)', async () => {
    const s = await stack(usePool);
    s.transport.feed(signMessage(createMessage({ recipient: Identity.generate().fingerprint, payload: {} }), s.sender));
    await waitUntil(() => s.rt.rejectedMessages === 1);
    expect(await total(s.metrics, 'converge_runtime_messages_rejected_total')).toBe(1);
    expect(await total(s.metrics, 'converge_messages_rejected_total')).toBe(0);
    expect(s.lines.filter((l) => l === 'message rejected')).toHaveLength(1);
  });
});

describe('runtime intake, one queue', () => {
  it('leaves the backlog in the transport queue: the inbox holds at most one batch, nothing is dropped, order is kept', async () => {
    const hub = new LocalHub();
    const agent = new RecordingAgent({ identity: Identity.generate() });
    let open!: () => void;
    agent.gate = new Promise((r) => (open = r));
    const transport = new LocalTransport(agent.id, { hub, maxQueue: 1_000 });
    const rt = new AgentRuntime({ agent, transport, batchSize: 16, tickIntervalMs: 1e9, sweepIntervalMs: 0 });
    running.push(rt);
    await rt.start();
    const peer = new LocalTransport(Identity.generate().fingerprint, { hub });
    await peer.start();
    running.push(peer);
    const total = 300;
    for (let n = 0; n < total; n++) await peer.send(createMessage({ recipient: agent.id, payload: { n } }));
    await waitUntil(() => rt.inbox.size === 16); // the blocked turn holds the first batch, the inbox the next
    await new Promise((r) => setTimeout(r, 50)); // the intake would move more now if it did
    const held = agent.seen.length;
    open();
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(16);
    expect(rt.inbox.size).toBe(16);
    expect(transport.queued).toBe(total - held - 16);
    await waitUntil(() => agent.seen.length === total);
    expect(agent.seen.map((m) => (m.payload as { n: number }).n)).toEqual([...Array(total).keys()]);
    expect(rt.inbox.dropped).toBe(0);
    expect(hub.stats.droppedOverflow).toBe(0);
  });

  it('refuses a verifier pool without a verifier that verifies in batches', () => {
    const agent = new RecordingAgent({ identity: Identity.generate() });
    expect(() => new AgentRuntime({ agent, verifierPool: new VerifierPool({ size: 1 }), verifier: { check: () => ({ ok: true }) } })).toThrow(ConfigError);
    expect(() => new AgentRuntime({ agent, verifierPool: new VerifierPool({ size: 1 }) })).toThrow(ConfigError);
  });
});
