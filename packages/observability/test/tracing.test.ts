import { createServer, connect, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, context, defaultTextMapGetter, trace, SpanStatusCode, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Identity, createMessage, decodeMessage, encodeMessage, signMessage, verifyMessage, type Message } from '@converge/core';
import { createTracing, withSpan, TRACE_KEY, type TraceCarrier } from '../src/index.js';
import { inMemoryTracing } from './support/in-memory-tracing.js';

const { exporter, provider } = inMemoryTracing();

function frame(bytes: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(bytes.byteLength);
  return Buffer.concat([header, bytes]);
}

/** A receiver on 127.0.0.1 that decodes length-prefixed frames and hands each message to `onMessage`. */
async function listen(onMessage: (m: Message) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const n = buf.readUInt32BE(0);
        if (buf.length < 4 + n) break;
        onMessage(decodeMessage(new Uint8Array(buf.subarray(4, 4 + n))));
        buf = buf.subarray(4 + n);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

async function stop(s: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const socket of s.sockets) socket.destroy();
  await new Promise<void>((resolve) => s.server.close(() => resolve()));
}

describe('trace context across agents', () => {
  for (const mode of ['built-in W3C codec', 'W3CTraceContextPropagator'] as const) {
    it(`one trace spans two agents over a real TCP socket (${mode})`, async () => {
      const propagator = mode === 'W3CTraceContextPropagator' ? new W3CTraceContextPropagator() : undefined;
      const sender = createTracing({ tracer: provider.getTracer('agent-a'), propagator });
      const receiver = createTracing({ tracer: provider.getTracer('agent-b'), propagator });
      const alice = Identity.generate();
      const bob = Identity.generate();

      let verified: boolean | undefined;
      let received: Message | undefined;
      let done!: () => void;
      let fail!: (err: Error) => void;
      const handled = new Promise<void>((resolve, reject) => ((done = resolve), (fail = reject)));
      const srv = await listen((msg) => {
        received = msg;
        verified = verifyMessage(msg, alice.publicKey);
        receiver.withSpan('agent.handle', { 'converge.message': msg.id }, async () => undefined, { parent: receiver.traceContextOf(msg) }).then(done, fail);
      });

      const socket = connect(srv.port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      await sender.withSpan('agent.send', { 'converge.agent': alice.fingerprint }, async () => {
        const init = sender.attachTraceContext({ recipient: bob.fingerprint, payload: { action: 'compute', n: 1 } });
        const msg = signMessage(createMessage(init), alice);
        await new Promise<void>((resolve, reject) => socket.write(frame(encodeMessage(msg)), (err) => (err ? reject(err) : resolve())));
      });
      await handled;
      socket.destroy();
      await stop(srv);

      expect(verified).toBe(true);
      const spans = exporter.getFinishedSpans();
      const send = spans.find((s) => s.name === 'agent.send')!;
      const handle = spans.find((s) => s.name === 'agent.handle')!;
      expect(send).toBeDefined();
      expect(handle).toBeDefined();
      expect(handle.spanContext().traceId).toBe(send.spanContext().traceId);
      expect(handle.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(handle.parentSpanContext?.isRemote).toBe(true);
      expect(handle.attributes['converge.message']).toBe(received!.id);

      // The trace context is in the payload, covered by the signature.
      const carrier = (received!.payload as Record<string, unknown>)[TRACE_KEY] as TraceCarrier;
      expect(carrier.traceparent).toBe(`00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`);
      expect((received!.payload as Record<string, unknown>).action).toBe('compute');
      const tampered = createMessage({
        ...received!,
        payload: { action: 'compute', n: 1, [TRACE_KEY]: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` } },
      });
      expect(verifyMessage(tampered, alice.publicKey)).toBe(false);
    });
  }
});

describe('createTracing', () => {
  const tracing = createTracing({ tracer: provider.getTracer('t') });

  it('writes the same traceparent as the OTel W3C propagator and reads it back', async () => {
    await tracing.withSpan('outer', {}, async () => {
      const ours = tracing.injectTraceContext({} as TraceCarrier);
      const theirs: Record<string, string> = {};
      new W3CTraceContextPropagator().inject(context.active(), theirs, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
      expect(ours.traceparent).toBe(theirs.traceparent);
      const sc = trace.getSpanContext(tracing.extractTraceContext(ours))!;
      const viaCore = trace.getSpanContext(new W3CTraceContextPropagator().extract(ROOT_CONTEXT, ours, defaultTextMapGetter))!;
      expect(sc).toMatchObject({ traceId: viaCore.traceId, spanId: viaCore.spanId, traceFlags: viaCore.traceFlags, isRemote: true });
    });
  });

  it('carries tracestate', () => {
    const ctx = tracing.extractTraceContext({ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, tracestate: 'vendor=x,other=y' });
    expect(trace.getSpanContext(ctx)?.traceState?.get('vendor')).toBe('x');
    expect(tracing.injectTraceContext({} as TraceCarrier, ctx)).toEqual({
      traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      tracestate: 'vendor=x,other=y',
    });
  });

  it('ignores malformed or hostile trace context', () => {
    const bad = [
      'garbage',
      `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`,
      `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${'A'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01-extra`,
    ];
    for (const traceparent of bad) expect(trace.getSpanContext(tracing.extractTraceContext({ traceparent }))).toBeUndefined();
    for (const payload of [{ _trace: 'x' }, { _trace: { traceparent: 5 } }, 'text', [1, 2], null] as const) {
      const msg = createMessage({ payload: payload as never });
      expect(trace.getSpanContext(tracing.traceContextOf(msg))).toBeUndefined();
    }
    const longState = tracing.extractTraceContext({ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, tracestate: 'k=' + 'v'.repeat(600) });
    expect(trace.getSpanContext(longState)?.traceState).toBeUndefined();
  });

  it('leaves messages alone without an active span or with a non-map payload', async () => {
    const init = { payload: { a: 1 } };
    expect(tracing.attachTraceContext(init)).toBe(init);
    await tracing.withSpan('s', {}, () => {
      const text = { payload: 'plain text' };
      expect(tracing.attachTraceContext(text)).toBe(text);
      const map = tracing.attachTraceContext({ payload: new Map([['1', 2]]) }).payload as Map<string, unknown>;
      expect(map.get('1')).toBe(2);
      expect(map.get(TRACE_KEY)).toMatchObject({ traceparent: expect.stringMatching(/^00-/) });
      const empty = tracing.attachTraceContext({}).payload as Record<string, unknown>;
      expect(Object.keys(empty)).toEqual([TRACE_KEY]);
    });
  });

  it('withSpan records errors and ends the span', async () => {
    await expect(
      tracing.withSpan('failing', { k: 'v' }, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe('failing');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.events.some((e) => e.name === 'exception')).toBe(true);
    expect(span!.attributes.k).toBe('v');
  });

  it('nests spans through the active context', async () => {
    let inner: Context | undefined;
    await tracing.withSpan('parent', {}, () =>
      tracing.withSpan('child', {}, () => {
        inner = context.active();
      }),
    );
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((s) => s.name === 'parent')!;
    const child = spans.find((s) => s.name === 'child')!;
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(trace.getSpanContext(inner!)?.spanId).toBe(child.spanContext().spanId);
  });

  it('the free withSpan uses the global provider and fits the runtime SpanRunner type', async () => {
    const runner: <T>(name: string, attributes: Record<string, string | number | boolean>, fn: () => Promise<T>) => Promise<T> = withSpan;
    trace.setGlobalTracerProvider(provider);
    try {
      expect(await runner('global.span', { a: 1 }, async () => 'ok')).toBe('ok');
    } finally {
      trace.disable();
    }
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['global.span']);
  });

  it('is a no-op when the API is absent', async () => {
    const off = createTracing({ api: null });
    expect(off.enabled).toBe(false);
    expect(await off.withSpan('x', {}, (span) => (span === undefined ? 42 : 0))).toBe(42);
    const init = { payload: { a: 1 } };
    expect(off.attachTraceContext(init)).toBe(init);
    expect(off.injectTraceContext({})).toEqual({});
    expect(off.traceContextOf(createMessage()).getValue(Symbol('k'))).toBeUndefined();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});
