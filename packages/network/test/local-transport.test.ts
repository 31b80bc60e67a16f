import { describe, expect, it } from 'vitest';
import { createMessage, createTopic, encodeMessage, FrameTooLargeError, Identity, isTransport, NotStartedError, QueueFullError } from '@converge/core';
import { signMessage, TransportError } from '@converge/core';
import { transportComplianceTests } from '@converge/compliance/transport';
import { LocalHub, LocalTransport, messageSizeBound } from '../src/index.js';

transportComplianceTests({
  name: 'LocalTransport',
  createPair: async () => {
    const hub = new LocalHub({ maxMessageBytes: 64 * 1024 });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => new LocalTransport(id, { hub }));
    return { a: a!, b: b!, c: c!, aId: 'a', bId: 'b', maxMessageBytes: hub.maxMessageBytes };
  },
});

transportComplianceTests({
  name: 'LocalTransport (default 10 MiB limit)',
  createPair: async () => {
    const hub = new LocalHub();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => new LocalTransport(id, { hub }));
    return { a: a!, b: b!, c: c!, aId: 'a', bId: 'b', maxMessageBytes: hub.maxMessageBytes };
  },
  churnIterations: 100,
  stressCount: 1_000,
});

async function trio(opts: { maxQueue?: number; overflow?: 'reject' | 'drop-oldest' } = {}) {
  const hub = new LocalHub();
  const [a, b, c] = ['a', 'b', 'c'].map((id) => new LocalTransport(id, { hub, ...opts }));
  await a!.start();
  await b!.start();
  await c!.start();
  return { hub, a: a!, b: b!, c: c! };
}

describe('LocalHub routing', () => {
  it('LocalTransport carries the transport brand (isTransport), a LocalHub does not', () => {
    const hub = new LocalHub();
    expect(isTransport(new LocalTransport('a', { hub }))).toBe(true);
    expect(isTransport(hub)).toBe(false);
  });

  it('sends a directed message only to its recipient', async () => {
    const { a, b, c } = await trio();
    await a.send(createMessage({ sender: 'a', recipient: 'c', payload: 1 }));
    expect((await c.receive({ timeoutMs: 0 }))?.payload).toBe(1);
    expect(b.queued).toBe(0);
    expect(a.queued).toBe(0);
  });

  it('sends to topic subscribers only (not the sender), else broadcasts to all but the sender', async () => {
    const { hub, a, b, c } = await trio();
    b.subscribe('alerts');
    a.subscribe('alerts');
    await a.send(createMessage({ sender: 'a', topics: [createTopic('alerts')], payload: 'x' }));
    expect([a.queued, b.queued, c.queued]).toEqual([0, 1, 0]);
    await a.send(createMessage({ sender: 'a', topics: [createTopic('other')], payload: 'y' }));
    expect([a.queued, b.queued, c.queued]).toEqual([0, 2, 1]);
    b.unsubscribe('alerts');
    a.unsubscribe('alerts');
    await c.send(createMessage({ sender: 'c', topics: [createTopic('alerts')], payload: 'z' }));
    expect([a.queued, b.queued, c.queued]).toEqual([1, 3, 1]);
    expect(hub.stats.sent).toBe(3);
    expect(hub.stats.delivered).toBe(5);
  });

  it('refuses an unknown recipient with ERR_UNKNOWN_RECIPIENT', async () => {
    const { hub, a } = await trio();
    const err = await a.send(createMessage({ sender: 'a', recipient: 'nobody' })).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.code).toBe('ERR_UNKNOWN_RECIPIENT');
    expect(hub.stats.refused).toBe(1);
  });

  it('refuses a second transport with the same id on one hub, but allows it on another hub', async () => {
    const { a } = await trio();
    const dup = new LocalTransport('a', { hub: a.hub });
    await expect(dup.start()).rejects.toMatchObject({ code: 'ERR_DUPLICATE_AGENT' });
    const other = new LocalTransport('a', { hub: new LocalHub() });
    await other.start();
    expect(other.started).toBe(true);
    await other.stop();
  });

  it('rejects with QueueFullError when the recipient queue is full, delivering nothing of a broadcast', async () => {
    const hub = new LocalHub();
    const a = new LocalTransport('a', { hub });
    const b = new LocalTransport('b', { hub, maxQueue: 2 });
    const c = new LocalTransport('c', { hub });
    for (const t of [a, b, c]) await t.start();
    await a.send(createMessage({ sender: 'a', recipient: 'b', payload: 1 }));
    await a.send(createMessage({ sender: 'a', recipient: 'b', payload: 2 }));
    await expect(a.send(createMessage({ sender: 'a', recipient: 'b', payload: 3 }))).rejects.toBeInstanceOf(QueueFullError);
    await expect(a.send(createMessage({ sender: 'a', payload: 'all' }))).rejects.toBeInstanceOf(QueueFullError);
    expect(c.queued).toBe(0);
    expect(hub.stats.refused).toBe(2);
    expect((await b.receive())?.payload).toBe(1);
    await a.send(createMessage({ sender: 'a', recipient: 'b', payload: 3 }));
    expect((await b.receive())?.payload).toBe(2);
    expect((await b.receive())?.payload).toBe(3);
  });

  it('drops the oldest message and counts it when the recipient opted into drop-oldest', async () => {
    const hub = new LocalHub();
    const a = new LocalTransport('a', { hub });
    const b = new LocalTransport('b', { hub, maxQueue: 2, overflow: 'drop-oldest' });
    await a.start();
    await b.start();
    for (let i = 1; i <= 5; i++) await a.send(createMessage({ sender: 'a', recipient: 'b', payload: i }));
    expect(hub.stats.droppedOverflow).toBe(3);
    expect((await b.receive())?.payload).toBe(4);
    expect((await b.receive())?.payload).toBe(5);
  });

  it('counts messages still queued when a transport stops', async () => {
    const { hub, a, b } = await trio();
    await a.send(createMessage({ sender: 'a', recipient: 'b' }));
    await a.send(createMessage({ sender: 'a', recipient: 'b' }));
    await b.stop();
    expect(hub.stats.droppedOnStop).toBe(2);
    await expect(b.receive()).rejects.toBeInstanceOf(NotStartedError);
  });

  it('checks the encoded size exactly, also for messages it does not encode', async () => {
    const hub = new LocalHub({ maxMessageBytes: 1000 });
    const a = new LocalTransport('a', { hub });
    const b = new LocalTransport('b', { hub });
    await a.start();
    await b.start();
    const alice = Identity.generate();
    const small = signMessage(createMessage({ recipient: 'b', payload: { k: 'v'.repeat(100) } }), alice);
    expect(messageSizeBound(small)).toBeGreaterThanOrEqual(encodeMessage(small).byteLength);
    await a.send(small);
    // Multi-byte characters: the bound must not under-count UTF-8.
    const wide = createMessage({ sender: 'a', recipient: 'b', payload: '€'.repeat(400) });
    expect(encodeMessage(wide).byteLength).toBeGreaterThan(1000);
    const err = await a.send(wide).catch((e) => e);
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect(err.size).toBe(encodeMessage(wide).byteLength);
    expect(hub.stats.refused).toBe(1);
  });

  it('refuses an unencodable payload with the codec error instead of passing it by reference', async () => {
    const { a } = await trio();
    const bad = createMessage({ sender: 'a', recipient: 'b', payload: { f: (() => 1) as never } });
    await expect(a.send(bad)).rejects.toMatchObject({ name: 'EncodeError' });
  });

  it('iterates messages until the transport stops', async () => {
    const { a, b } = await trio();
    await a.send(createMessage({ sender: 'a', recipient: 'b', payload: 1 }));
    await a.send(createMessage({ sender: 'a', recipient: 'b', payload: 2 }));
    const seen: unknown[] = [];
    for await (const m of b) {
      seen.push(m.payload);
      if (seen.length === 2) void b.stop();
    }
    expect(seen).toEqual([1, 2]);
  });

  it('passes message objects by reference (no copy on the hot path)', async () => {
    const { a, b } = await trio();
    const m = createMessage({ sender: 'a', recipient: 'b' });
    await a.send(m);
    expect(b.tryReceive()).toBe(m);
    expect(b.tryReceive()).toBeNull();
  });
});
