import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { LocalHub, LocalTransport } from '@converge/network';
import { PoolManager, TaskManager } from '@converge/coordination';
import { createTracing } from '@converge/observability';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentRuntime } from '@converge/runtime';
import { SquareWorker, SubmitterAgent, waitUntil } from './helpers.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => void context.setGlobalContextManager(contextManager.enable()));
afterAll(async () => {
  context.disable();
  await provider.shutdown();
});

describe('trace context carried by tasks', () => {
  it("a worker's turn on a submitted task continues the submitter's trace (submit -> claim -> report)", async () => {
    const tracing = createTracing({ tracer: provider.getTracer('task-trace-test') });
    const store = new MemoryStore();
    const taskManager = new TaskManager({ store });
    const poolManager = new PoolManager({ store });
    await poolManager.createPool({ id: 'p' });
    const hub = new LocalHub();
    const submitter = new SubmitterAgent('p', 1);
    const worker = new SquareWorker('p');
    const shared = { taskManager, poolManager, tracer: tracing.withSpan.bind(tracing), propagateTraceContext: tracing, sweepIntervalMs: 0 };
    const runtimes = [submitter, worker].map((agent) => new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub }), ...shared }));
    for (const rt of runtimes) await rt.start();
    for (const rt of runtimes) rt.scheduler.notify();
    await waitUntil(() => taskManager.stats().completed === 1);
    await Promise.all(runtimes.map((r) => r.stop()));
    const task = await taskManager.getTask('t-0');
    expect((task.constraints._trace as { traceparent: string }).traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const spans = exporter.getFinishedSpans();
    const outcome = (type: string) => spans.find((s) => s.name === 'agent.outcome' && s.attributes['converge.decision'] === type)!;
    const submit = outcome('SubmitTask');
    const claim = outcome('ClaimTask');
    const report = outcome('ReportTask');
    expect(submit.attributes['converge.agent']).toBe(submitter.id);
    expect(claim.attributes['converge.agent']).toBe(worker.id);
    expect(report.attributes['converge.agent']).toBe(worker.id);
    const traceId = submit.spanContext().traceId;
    expect(claim.spanContext().traceId).toBe(traceId);
    expect(report.spanContext().traceId).toBe(traceId);
  });
});
