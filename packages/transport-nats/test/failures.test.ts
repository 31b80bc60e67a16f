// Failure paths against the real server: unreachable server, malformed payloads, full
// queues, own broadcasts, oversize messages, use before start.
import { afterEach, describe, expect, it } from 'vitest';
import { createMessage, encodeMessage, isTransport } from '@converge/core';
import { MetricsCollector } from '@converge/observability';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsTransport } from '../src/index.js';
import { NATS_URL, rawConnection, uniquePrefix } from './helpers.js';

function recordingLogger(): { logger: never; lines: { level: string; obj: unknown; msg: string }[] } {
  const lines: { level: string; obj: unknown; msg: string }[] = [];
  const at = (level: string) => (obj: unknown, msg: string) => {
    lines.push({ level, obj, msg });
  };
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger: logger as never, lines };
}

describe('NatsTransport failure handling', () => {
  const open: NatsTransport[] = [];
  const raws: NatsConnection[] = [];
  afterEach(async () => {
    for (const t of open.splice(0)) await t.stop();
    for (const r of raws.splice(0)) await r.close();
  });

  it('carries the transport brand (isTransport) before it is started', () => {
    expect(isTransport(new NatsTransport({ agentId: 'brand', servers: NATS_URL }))).toBe(true);
  });

  it('fails start with a TransportError (ERR_CONNECT) after the bounded attempts when no server listens', async () => {
    const { logger, lines } = recordingLogger();
    const t = new NatsTransport({ servers: 'nats://127.0.0.1:1', agentId: 'lonely', connectAttempts: 2, connectRetryDelayMs: 10, logger });
    await expect(t.start()).rejects.toMatchObject({ name: 'TransportError', code: 'ERR_CONNECT' });
    expect(lines.filter((l) => l.msg === 'NATS connection attempt failed').length).toBe(2);
    expect(t.started).toBe(false);
    await expect(t.send(createMessage({ recipient: 'x' }))).rejects.toMatchObject({ name: 'NotStartedError' });
  });

  it('counts and logs a malformed payload from a raw client, delivers nothing of it, and keeps working', async () => {
    const subjectPrefix = uniquePrefix('malformed');
    const { logger, lines } = recordingLogger();
    const metrics = new MetricsCollector();
    const b = new NatsTransport({ servers: NATS_URL, agentId: 'b', subjectPrefix, logger, metrics });
    const a = new NatsTransport({ servers: NATS_URL, agentId: 'a', subjectPrefix });
    open.push(a, b);
    await b.start();
    await a.start();
    const raw = await rawConnection();
    raws.push(raw);
    raw.publish(`${subjectPrefix}.agent.b`, new TextEncoder().encode('not msgpack at all'));
    raw.publish(`${subjectPrefix}.broadcast`, Uint8Array.of(0x93, 1, 2, 3)); // msgpack, not a message
    await raw.flush();
    const good = createMessage({ sender: 'a', recipient: 'b', payload: 'fine' });
    await a.send(good);
    expect((await b.receive({ timeoutMs: 10_000 }))?.id).toBe(good.id);
    expect(b.stats.malformed).toBe(2);
    expect(
      metrics
        .counter('converge_transport_dropped_total', 'Messages a transport discarded (overflow under drop-oldest, queued at stop)', ['transport', 'reason'])
        .get({ transport: 'nats', reason: 'malformed' }),
    ).toBe(2);
    // The subject is read from the NATS message only for the log of a malformed one.
    const warned = lines.find((l) => l.level === 'warn' && /not a valid message/.test(l.msg));
    expect(warned?.obj).toMatchObject({ subject: `${subjectPrefix}.agent.b`, size: 18 });
    expect(await b.receive({ timeoutMs: 20 })).toBeNull();
  });

  it('drops and counts core-NATS messages that arrive when the receive queue is full', async () => {
    const subjectPrefix = uniquePrefix('full');
    const { logger, lines } = recordingLogger();
    const b = new NatsTransport({ servers: NATS_URL, agentId: 'b', subjectPrefix, maxQueue: 3, logger });
    const a = new NatsTransport({ servers: NATS_URL, agentId: 'a', subjectPrefix });
    open.push(a, b);
    await b.start();
    await a.start();
    const sent = Array.from({ length: 10 }, (_, i) => createMessage({ sender: 'a', recipient: 'b', payload: i }));
    for (const m of sent) await a.send(m);
    await a.flush();
    await b.flush(); // every message before b's PONG has been dispatched to b
    expect(b.queued).toBe(3);
    expect(b.stats.droppedQueueFull).toBe(7);
    expect(lines.some((l) => l.level === 'warn' && /queue full/.test(l.msg))).toBe(true);
    const got = [await b.receive(), await b.receive(), await b.receive()].map((m) => m!.payload);
    expect(got).toEqual([0, 1, 2]);
  });

  it('does not hand a sender its own broadcast', async () => {
    const subjectPrefix = uniquePrefix('own');
    const [a, b] = ['a', 'b'].map((id) => new NatsTransport({ servers: NATS_URL, agentId: id, subjectPrefix }));
    open.push(a!, b!);
    await a!.start();
    await b!.start();
    const m = createMessage({ sender: 'a', recipient: null, payload: 'hello all' });
    await a!.send(m);
    await a!.flush();
    expect((await b!.receive({ timeoutMs: 10_000 }))?.id).toBe(m.id);
    await b!.flush();
    await a!.flush();
    expect(a!.stats.ownSkipped).toBe(1);
    expect(await a!.receive({ timeoutMs: 20 })).toBeNull();
  });

  it('refuses oversize messages before publishing, with the limit lowered to the server max_payload', async () => {
    const raw = await rawConnection();
    raws.push(raw);
    const serverMax = raw.info!.max_payload;
    const subjectPrefix = uniquePrefix('size');
    const t = new NatsTransport({ servers: NATS_URL, agentId: 'a', subjectPrefix, maxMessageBytes: serverMax * 4 });
    open.push(t);
    expect(t.maxMessageBytes).toBe(serverMax * 4);
    await t.start();
    expect(t.maxMessageBytes).toBe(serverMax);
    const big = createMessage({ sender: 'a', recipient: 'b', payload: 'x'.repeat(serverMax) });
    await expect(t.send(big)).rejects.toMatchObject({ name: 'FrameTooLargeError', size: encodeMessage(big).byteLength, limit: serverMax });
    expect(t.stats.sent).toBe(0);
  });

  it('rejects invalid options with ValidationError', () => {
    expect(() => new NatsTransport({ servers: NATS_URL, agentId: 'a.b' })).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(() => new NatsTransport({ servers: NATS_URL, agentId: 'a', subjectPrefix: 'x..y' })).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(() => new NatsTransport({ servers: NATS_URL, agentId: 'a', maxQueue: 0 })).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(() => new NatsTransport({ servers: NATS_URL, agentId: 'a', durable: 'bad.name' })).toThrow(expect.objectContaining({ name: 'ValidationError' }));
  });
});
