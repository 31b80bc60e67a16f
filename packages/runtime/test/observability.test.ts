import { describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Agent, Decisions, type Decision, type Message } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { MetricsCollector, ReplayLog, createTracing, replay, withSpan } from '@converge/observability';
import { AgentRuntime, type AgentRuntimeOptions, type SpanRunner } from '@converge/runtime';
import { inMemoryTracing } from '../../observability/test/support/in-memory-tracing.js';
import { SquareWorker, SubmitterAgent, waitUntil, stoppedAfterEach } from './helpers.js';
import { poolStack } from './pool-stack.js';

// observability's withSpan is a SpanRunner as is (checked by tsc).
const _runner: SpanRunner = withSpan;
void _runner;

const { exporter, provider } = inMemoryTracing();

const running = stoppedAfterEach<AgentRuntime>();

/** Sends `{ ping: 1 }` to `to` on its first turn; records what it receives. */
class Pinger extends Agent {
  received: Message[] = [];
  sent = false;
  constructor(readonly to?: string) {
    super();
  }
  decide(messages: readonly Message[]): Decision[] {
    this.received.push(...messages);
    if (!this.to || this.sent) return [];
    this.sent = true;
    return [Decisions.sendMessage(this.to, { ping: 1 })];
  }
}

const agentOf = (s: ReadableSpan) => s.attributes['converge.agent'];
const parentSpanId = (s: ReadableSpan) =>
  (s as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId ?? (s as unknown as { parentSpanId?: string }).parentSpanId;

describe('AgentRuntime tracing with the OpenTelemetry SDK', () => {
  it("wraps decide and execute in spans, and a message handled by another runtime continues the sender's trace", async () => {
    const tracing = createTracing({ tracer: provider.getTracer('runtime-test') });
    const hub = new LocalHub();
    const receiver = new Pinger();
    const sender = new Pinger(receiver.id);
    const opts = (agent: Agent): AgentRuntimeOptions => ({
      agent,
      transport: new LocalTransport(agent.id, { hub }),
      tracer: tracing.withSpan.bind(tracing),
      propagateTraceContext: tracing,
    });
    const rtB = new AgentRuntime(opts(receiver));
    const rtA = new AgentRuntime(opts(sender));
    running.push(rtA, rtB);
    await rtB.start();
    await rtA.start();
    await waitUntil(() => receiver.received.length === 1);
    // The payload carried the context under _trace, inside the signature.
    expect(Object.keys(receiver.received[0]!.payload as object)).toContain('_trace');
    await waitUntil(() =>
      exporter.getFinishedSpans().some((s) => s.name === 'agent.decide' && agentOf(s) === receiver.id && s.attributes['converge.messages'] === 1),
    );
    const spans = exporter.getFinishedSpans();
    const sendExec = spans.find((s) => s.name === 'agent.execute' && agentOf(s) === sender.id)!;
    const handled = spans.find((s) => s.name === 'agent.decide' && agentOf(s) === receiver.id && s.attributes['converge.messages'] === 1)!;
    expect(sendExec).toBeDefined();
    expect(spans.some((s) => s.name === 'agent.decide' && agentOf(s) === sender.id)).toBe(true);
    expect(handled.spanContext().traceId).toBe(sendExec.spanContext().traceId);
    expect(parentSpanId(handled)).toBe(sendExec.spanContext().spanId);
  });

  it('a decide that throws ends its span with an error status and an exception event', async () => {
    const tracing = createTracing({ tracer: provider.getTracer('runtime-test') });
    const agent = new Pinger();
    agent.decide = () => {
      throw new Error('decide exploded');
    };
    const rt = new AgentRuntime({ agent, tracer: tracing.withSpan.bind(tracing) });
    running.push(rt);
    await rt.start();
    await waitUntil(() => (rt.errors.get('decide') ?? 0) >= 1);
    await waitUntil(() => exporter.getFinishedSpans().some((s) => s.name === 'agent.decide'));
    const span = exporter.getFinishedSpans().find((s) => s.name === 'agent.decide')!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.events.some((e) => e.name === 'exception')).toBe(true);
    expect(rt.isHealthy()).toBe(true);
  });
});

describe('AgentRuntime replay log and metrics', () => {
  it('records inputs and decisions so that a replay of the agent reproduces them', async () => {
    const hub = new LocalHub();
    const replayLog = new ReplayLog();
    class Replier extends Pinger {
      override decide(messages: readonly Message[]): Decision[] {
        super.decide(messages);
        return messages.map((m) => Decisions.sendMessage(m.sender, { pong: (m.payload as { ping: number }).ping }));
      }
    }
    const replier = new Replier();
    const rtR = new AgentRuntime({ agent: replier, transport: new LocalTransport(replier.id, { hub }), replayLog });
    const rtP = new AgentRuntime({ agent: new Pinger(replier.id), transport: new LocalTransport('p', { hub }) });
    running.push(rtR, rtP);
    await rtR.start();
    await rtP.start();
    await waitUntil(() => replier.received.length === 1);
    await waitUntil(() => replayLog.entries().some((e) => e.kind === 'decision' && e.decisions.length === 1));
    const entries = replayLog.entries();
    const decision = entries.find((e) => e.kind === 'decision' && e.decisions.length === 1)!;
    expect(decision.kind === 'decision' && decision.inputs).toEqual([replier.received[0]!.id]);
    const report = await replay(replayLog, new Replier(), { agentId: replier.id });
    expect(report.steps).toBeGreaterThanOrEqual(1);
    expect(report.mismatches).toEqual([]);
  });

  it('exports TaskManager.stats() as converge_taskmanager_events_total, once per collector however many runtimes share it', async () => {
    const { taskManager, poolManager } = await poolStack();
    const hub = new LocalHub();
    const metrics = new MetricsCollector();
    const agents = [new SubmitterAgent('pool-1', 20, 5), new SquareWorker('pool-1'), new SquareWorker('pool-1')];
    const rts = agents.map((agent) => new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub }), taskManager, poolManager, metrics }));
    running.push(...rts);
    for (const rt of rts) await rt.start();
    await waitUntil(() => taskManager.stats().completed === 20);
    for (const rt of rts) rt.collectMetrics();
    const c = metrics.counter('converge_taskmanager_events_total', 'x', ['event']);
    expect(c.get({ event: 'submitted' })).toBe(20);
    expect(c.get({ event: 'completed' })).toBe(20);
    expect(c.get({ event: 'claims' })).toBe(taskManager.stats().claims);
    expect(await metrics.metrics()).toContain('converge_taskmanager_events_total{event="completed"} 20');
    const decisions = metrics.counter('converge_decisions_total', 'x', ['type', 'outcome']);
    expect(decisions.get({ type: 'ReportTask', outcome: 'ok' })).toBe(20);
  });
});
