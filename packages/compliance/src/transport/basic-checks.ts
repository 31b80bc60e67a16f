// The Transport checks that were in the suite from the start, now with their own time bounds.
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'vitest';
import { createTopic, type Message } from '@converge/core';
import type { TransportBounds } from './bounds.js';
import type { TransportCheck } from './check.js';
import type { TransportComplianceOptions } from './options.js';
import { messageOfEncodedSize } from './sized-message.js';

/** Hang guard of a check that waits for a handful of messages. */
export const shortGuard = (b: TransportBounds): number => 4 * (b.receiveMs + b.settleMs) + 10_000;
/** Hang guard of the long checks (stress, churn, ordering). */
export const LONG_GUARD_MS = 300_000;

const delivered: TransportCheck['run'] = async (ctx) => {
  const { pair } = ctx;
  await ctx.start();
  const m = ctx.msg({ payload: { text: 'hello', n: 42 }, topics: [createTopic('greetings', { lang: 'en' })], taskId: 't-1' });
  await ctx.settle(pair.a.send(m), 'a.send() of a directed message did not settle');
  const got = await ctx.expectMessage(pair.b, 'a directed message from a at b');
  expect(got.id).toBe(m.id);
  expect(got.sender).toBe(m.sender);
  expect(got.recipient).toBe(pair.bId);
  expect(got.payload).toEqual({ text: 'hello', n: 42 });
  expect(got.taskId).toBe('t-1');
  expect(got.topics.map((t) => t.namespace)).toEqual(['greetings']);
  expect([...got.signature]).toEqual([...m.signature]);
  const back = ctx.msgFrom(pair.bId, pair.aId, { payload: 'pong' });
  await ctx.settle(pair.b.send(back), 'b.send() of a directed message did not settle');
  expect((await ctx.expectMessage(pair.a, 'a directed message from b at a')).id).toBe(back.id);
};

const aborts: TransportCheck['run'] = async (ctx) => {
  const { pair } = ctx;
  await ctx.start();
  const ac = new AbortController();
  const p = pair.b.receive({ signal: ac.signal });
  ac.abort();
  await ctx.expectRejects(p, 'a pending receive ignored its abort signal: it must reject with AbortError', { name: 'AbortError' });
  await ctx.expectRejects(pair.b.receive({ signal: AbortSignal.abort() }), 'receive with an already-aborted signal did not reject at once', {
    name: 'AbortError',
  });
  // The aborted receive consumed nothing: the next message still arrives.
  const m = ctx.msg({ payload: 'after abort' });
  await ctx.settle(pair.a.send(m), 'a.send() did not settle');
  expect((await ctx.expectMessage(pair.b, 'the message sent after an aborted receive')).id).toBe(m.id);
};

const stopSettlesReceive: TransportCheck['run'] = async (ctx) => {
  const { pair } = ctx;
  await ctx.start();
  const p = pair.b.receive();
  await ctx.settle(pair.b.stop(), 'b.stop() did not settle while a receive was pending');
  expect(await ctx.settle(p, 'a receive pending when the transport stopped did not settle: stop() must resolve it with null')).toBeNull();
  expect(pair.b.started).toBe(false);
};

const sizeLimit: TransportCheck['run'] = async (ctx) => {
  const { pair } = ctx;
  const prepare = ctx.options.prepare;
  await ctx.start();
  const max = pair.maxMessageBytes;
  const fits = messageOfEncodedSize({ sender: pair.aId, recipient: pair.bId }, max, prepare);
  await ctx.settle(pair.a.send(fits), 'a.send() of a message of exactly the size limit did not settle');
  const got = await ctx.expectMessage(pair.b, 'a message of exactly the size limit');
  expect(got.id).toBe(fits.id);
  expect((got.payload as { pad: string }).pad.length).toBe((fits.payload as { pad: string }).pad.length);

  const over = messageOfEncodedSize({ sender: pair.aId, recipient: pair.bId }, max + 1, prepare);
  await ctx.expectRejects(pair.a.send(over), 'a.send() of an oversized message did not settle', { name: 'FrameTooLargeError', size: max + 1, limit: max });
  // Nothing of the refused message arrives: the next message is the marker sent after it.
  const marker = ctx.msg({ payload: 'marker' });
  await ctx.settle(pair.a.send(marker), 'a.send() did not settle');
  expect((await ctx.expectMessage(pair.b, 'the marker sent after an oversized message')).id).toBe(marker.id);
  await ctx.expectNothing(pair.b, 20, 'something arrived after the marker: part of the refused message was delivered');
};

const stress =
  (count: number): TransportCheck['run'] =>
  async (ctx) => {
    const { pair } = ctx;
    await ctx.start();
    const sent = Array.from({ length: count }, (_, i) => ctx.msg({ payload: { seq: i } }));
    const received: Message[] = [];
    const receiver = (async () => {
      while (received.length < count) {
        const m = await ctx.receiveBounded(pair.b, 'in the receiver loop');
        if (m === null) break;
        received.push(m);
      }
    })();
    receiver.catch(() => undefined); // awaited below; keeps an early bound failure from being "unhandled"
    for (const m of sent) await ctx.settle(pair.a.send(m), `a.send() of message ${m.id} did not settle`);
    await receiver;
    expect(received.length, `${count - received.length} of ${count} messages were lost`).toBe(count);
    expect(received.map((m) => (m.payload as { seq: number }).seq)).toEqual(sent.map((_, i) => i));
    expect(new Set(received.map((m) => m.id)).size).toBe(count);
    await ctx.expectNothing(pair.b, 20, 'a message arrived after all were received: duplicated delivery');
  };

const topicRouted: TransportCheck['run'] = async (ctx) => {
  ctx.pair.b.subscribe!('news');
  await ctx.start();
  const m = ctx.msg({ recipient: null, topics: [createTopic('news', { section: 'tech' })], payload: 'topical' });
  await ctx.settle(ctx.pair.a.send(m), 'a.send() of a topic message did not settle');
  expect((await ctx.expectMessage(ctx.pair.b, 'a topic message at its subscriber')).id).toBe(m.id);
};

const broadcast: TransportCheck['run'] = async (ctx) => {
  await ctx.start();
  const m = ctx.msg({ recipient: null, payload: 'to all' });
  await ctx.settle(ctx.pair.a.send(m), 'a.send() of a broadcast did not settle');
  expect((await ctx.expectMessage(ctx.pair.b, 'a broadcast at the other agent')).id).toBe(m.id);
};

const ordered: TransportCheck['run'] = async (ctx) => {
  await ctx.start();
  const sent = Array.from({ length: 200 }, (_, i) => ctx.msg({ payload: { seq: i } }));
  for (const m of sent) await ctx.settle(ctx.pair.a.send(m), 'a.send() did not settle');
  const got: string[] = [];
  for (let i = 0; i < sent.length; i++) got.push((await ctx.expectMessage(ctx.pair.b, `message ${i} of 200`)).id);
  expect(got).toEqual(sent.map((m) => m.id));
};

const receiveTimesOut: TransportCheck['run'] = async (ctx) => {
  await ctx.start();
  expect(await ctx.settle(ctx.pair.b.receive({ timeoutMs: 20 }), 'receive({ timeoutMs: 20 }) did not settle: the transport ignores timeoutMs')).toBeNull();
};

const notStarted: TransportCheck['run'] = async (ctx) => {
  const { pair } = ctx;
  expect(pair.a.started).toBe(false);
  await ctx.expectRejects(pair.a.send(ctx.msg({ payload: 'early' })), 'send() before start() did not settle', { name: 'NotStartedError' });
  await ctx.start();
  expect(pair.a.started).toBe(true);
  await ctx.settle(pair.a.stop(), 'a.stop() did not settle');
  await ctx.expectRejects(pair.a.send(ctx.msg({ payload: 'late' })), 'send() after stop() did not settle', { name: 'NotStartedError' });
};

/** The original checks: delivery, routing, order, receive semantics, limits, stress, leaks. */
export function basicChecks(options: TransportComplianceOptions, caps: { broadcast: boolean; topics: boolean }, bounds: TransportBounds): TransportCheck[] {
  const stressCount = options.stressCount ?? 10_000;
  const churnIterations = options.churnIterations ?? 1_000;
  const guard = shortGuard(bounds);
  return [
    { title: 'delivers a directed message both ways, intact', enabled: true, timeoutMs: guard, run: delivered },
    {
      title: 'routes a message without recipient to a subscriber of its topic namespace',
      enabled: caps.topics,
      timeoutMs: guard,
      run: topicRouted,
    },
    {
      title: 'broadcasts a message without recipient or subscribers to the other agent',
      enabled: caps.broadcast,
      timeoutMs: guard,
      run: broadcast,
    },
    {
      title: 'keeps the order of messages from one sender',
      enabled: true,
      timeoutMs: LONG_GUARD_MS,
      run: ordered,
    },
    {
      title: 'resolves null when a receive times out',
      enabled: true,
      timeoutMs: guard,
      run: receiveTimesOut,
    },
    {
      title: 'rejects a pending receive with AbortError when its signal aborts, and an already-aborted one at once',
      enabled: true,
      timeoutMs: guard,
      run: aborts,
    },
    { title: 'resolves a pending receive with null when the transport stops', enabled: true, timeoutMs: guard, run: stopSettlesReceive },
    {
      title: 'refuses send before start and after stop with NotStartedError',
      enabled: true,
      timeoutMs: guard,
      run: notStarted,
    },
    {
      title: 'delivers a message of exactly the size limit and refuses one byte more (FrameTooLargeError, nothing delivered)',
      enabled: true,
      timeoutMs: guard,
      run: sizeLimit,
    },
    { title: `carries ${stressCount} messages with none lost, none duplicated, order kept`, enabled: true, timeoutMs: LONG_GUARD_MS, run: stress(stressCount) },
    {
      title: `leaks no handles or listeners over ${churnIterations} connect-then-close cycles`,
      enabled: true,
      timeoutMs: LONG_GUARD_MS,
      run: churnCheck(churnIterations),
    },
  ];
}

const PROCESS_EVENTS = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'uncaughtException', 'unhandledRejection', 'warning'] as const;

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

function excess(baseline: Map<string, number>, now: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [k, n] of now) {
    const b = baseline.get(k) ?? 0;
    if (n > b) out.push(`${k}: ${n} (baseline ${b})`);
  }
  return out;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function churnCheck(iterations: number): TransportCheck['run'] {
  return async (ctx) => {
    const { options } = ctx;
    const churn =
      options.churn ??
      (async () => {
        const p = await options.createPair();
        await p.b.start();
        await p.a.start();
        await p.connect?.();
        await p.a.stop();
        await p.b.stop();
        await p.cleanup?.();
      });
    await ctx.settle(churn(), 'one connect-then-close cycle did not settle'); // warm-up: lazily created, process-wide resources are not leaks
    await tick();
    const baseline = resourceCounts();
    const baseListeners = PROCESS_EVENTS.map((e) => process.listenerCount(e));
    const baseExtra = options.listenerCount?.() ?? 0;
    for (let i = 0; i < iterations; i++) await ctx.settle(churn(), `connect-then-close cycle ${i} did not settle`);
    // Closing handles completes asynchronously; give the loop turns (not a timed assertion).
    let left: string[] = [];
    for (let i = 0; i < 500; i++) {
      left = excess(baseline, resourceCounts());
      if (left.length === 0) break;
      await delay(10);
    }
    expect(left).toEqual([]);
    expect(PROCESS_EVENTS.map((e) => process.listenerCount(e))).toEqual(baseListeners);
    expect(options.listenerCount?.() ?? 0).toBe(baseExtra);
  };
}
