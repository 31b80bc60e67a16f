/**
 * `@converge/compliance/transport`: the behaviour every Transport must show, as a vitest suite.
 * @packageDocumentation
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMessage, createTopic, type Message, type MessageInit } from '@converge/core';
import type { TransportUnderTest as Transport } from './contract.js';
import { messageOfEncodedSize } from './sized-message.js';

export { messageOfEncodedSize } from './sized-message.js';
export type { TransportUnderTest } from './contract.js';

/** Two transports that can reach each other, made fresh for each test. */
export interface TransportPair {
  /** Sender side in most tests (not started). */
  a: Transport;
  /** Receiver side in most tests (not started). */
  b: Transport;
  /** The id (`recipient`) that reaches `a`. */
  aId: string;
  /** The id (`recipient`) that reaches `b`. */
  bId: string;
  /** The largest encoded message (`encodeMessage(m).byteLength`) the pair accepts. */
  maxMessageBytes: number;
  /** Called after both transports started (e.g. to tell `a` where `b` listens). */
  connect?: () => Promise<void>;
  /** Releases anything else the pair holds (hubs, servers). Called after every test. */
  cleanup?: () => Promise<void>;
}

/** Options of `transportComplianceTests`. */
export interface TransportComplianceOptions {
  /** Suite title, e.g. `'LocalTransport'`. */
  name: string;
  /** Makes a fresh, unstarted pair. */
  createPair: () => Promise<TransportPair>;
  /** What the transport supports beyond directed messages (both default `true`). */
  capabilities?: { broadcast?: boolean; topics?: boolean };
  /**
   * One connect-then-immediately-close cycle, for the leak test (default: create a pair,
   * start, connect, stop both, cleanup). A network transport can open and close a real
   * connection here.
   */
  churn?: () => Promise<void>;
  /** Cycles of the leak test (default 1,000). */
  churnIterations?: number;
  /** Messages in the stress test (default 10,000). */
  stressCount?: number;
  /** Applied to every message before it is sent (e.g. signing, for transports that verify). */
  prepare?: (message: Message) => Message;
  /** Extra listener counts that must return to their baseline after churn (e.g. a server's). */
  listenerCount?: () => number;
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

/**
 * Registers the Transport compliance suite with vitest. Call it at the top level of a test
 * file:
 *
 * ```ts
 * transportComplianceTests({
 *   name: 'LocalTransport',
 *   createPair: async () => { const hub = new LocalHub(); return {
 *     a: new LocalTransport('a', { hub }), b: new LocalTransport('b', { hub }), aId: 'a', bId: 'b',
 *     maxMessageBytes: hub.maxMessageBytes } },
 * });
 * ```
 */
export function transportComplianceTests(options: TransportComplianceOptions): void {
  const caps = { broadcast: true, topics: true, ...options.capabilities };
  const prepare = options.prepare ?? ((m: Message) => m);
  const stressCount = options.stressCount ?? 10_000;
  const churnIterations = options.churnIterations ?? 1_000;

  describe(`${options.name} (transport compliance)`, () => {
    let pair: TransportPair;
    const msg = (init: MessageInit): Message => prepare(createMessage({ sender: pair.aId, recipient: pair.bId, ...init }));
    const startPair = async (): Promise<void> => {
      await pair.b.start();
      await pair.a.start();
      await pair.connect?.();
    };

    beforeEach(async () => {
      pair = await options.createPair();
    });
    afterEach(async () => {
      await pair.a.stop();
      await pair.b.stop();
      await pair.cleanup?.();
    });

    it('delivers a directed message both ways, intact', async () => {
      await startPair();
      const m = msg({ payload: { text: 'hello', n: 42 }, topics: [createTopic('greetings', { lang: 'en' })], taskId: 't-1' });
      await pair.a.send(m);
      const got = await pair.b.receive({ timeoutMs: 10_000 });
      expect(got).not.toBeNull();
      expect(got!.id).toBe(m.id);
      expect(got!.sender).toBe(m.sender);
      expect(got!.recipient).toBe(pair.bId);
      expect(got!.payload).toEqual({ text: 'hello', n: 42 });
      expect(got!.taskId).toBe('t-1');
      expect(got!.topics.map((t) => t.namespace)).toEqual(['greetings']);
      expect([...got!.signature]).toEqual([...m.signature]);
      const back = prepare(createMessage({ sender: pair.bId, recipient: pair.aId, payload: 'pong' }));
      await pair.b.send(back);
      expect((await pair.a.receive({ timeoutMs: 10_000 }))?.id).toBe(back.id);
    });

    it.runIf(caps.topics)('routes a message without recipient to a subscriber of its topic namespace', async () => {
      pair.b.subscribe!('news');
      await startPair();
      const m = msg({ recipient: null, topics: [createTopic('news', { section: 'tech' })], payload: 'topical' });
      await pair.a.send(m);
      expect((await pair.b.receive({ timeoutMs: 10_000 }))?.id).toBe(m.id);
    });

    it.runIf(caps.broadcast)('broadcasts a message without recipient or subscribers to the other agent', async () => {
      await startPair();
      const m = msg({ recipient: null, payload: 'to all' });
      await pair.a.send(m);
      expect((await pair.b.receive({ timeoutMs: 10_000 }))?.id).toBe(m.id);
    });

    it('keeps the order of messages from one sender', async () => {
      await startPair();
      const sent = Array.from({ length: 200 }, (_, i) => msg({ payload: { seq: i } }));
      for (const m of sent) await pair.a.send(m);
      const got: string[] = [];
      for (let i = 0; i < sent.length; i++) got.push((await pair.b.receive({ timeoutMs: 10_000 }))!.id);
      expect(got).toEqual(sent.map((m) => m.id));
    });

    it('resolves null when a receive times out', async () => {
      await startPair();
      expect(await pair.b.receive({ timeoutMs: 20 })).toBeNull();
    });

    it('rejects a pending receive with AbortError when its signal aborts, and an already-aborted one at once', async () => {
      await startPair();
      const ac = new AbortController();
      const p = pair.b.receive({ signal: ac.signal });
      ac.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      await expect(pair.b.receive({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      // The aborted receive consumed nothing: the next message still arrives.
      const m = msg({ payload: 'after abort' });
      await pair.a.send(m);
      expect((await pair.b.receive({ timeoutMs: 10_000 }))?.id).toBe(m.id);
    });

    it('resolves a pending receive with null when the transport stops', async () => {
      await startPair();
      const p = pair.b.receive();
      await pair.b.stop();
      expect(await p).toBeNull();
      expect(pair.b.started).toBe(false);
    });

    it('refuses send before start and after stop with NotStartedError', async () => {
      expect(pair.a.started).toBe(false);
      await expect(pair.a.send(msg({ payload: 'early' }))).rejects.toMatchObject({ name: 'NotStartedError' });
      await startPair();
      expect(pair.a.started).toBe(true);
      await pair.a.stop();
      await expect(pair.a.send(msg({ payload: 'late' }))).rejects.toMatchObject({ name: 'NotStartedError' });
    });

    it('delivers a message of exactly the size limit and refuses one byte more (FrameTooLargeError, nothing delivered)', async () => {
      await startPair();
      const max = pair.maxMessageBytes;
      const fits = messageOfEncodedSize({ sender: pair.aId, recipient: pair.bId }, max, prepare);
      await pair.a.send(fits);
      const got = await pair.b.receive({ timeoutMs: 30_000 });
      expect(got?.id).toBe(fits.id);
      expect((got!.payload as { pad: string }).pad.length).toBe((fits.payload as { pad: string }).pad.length);

      const over = messageOfEncodedSize({ sender: pair.aId, recipient: pair.bId }, max + 1, prepare);
      await expect(pair.a.send(over)).rejects.toMatchObject({ name: 'FrameTooLargeError', size: max + 1, limit: max });
      // Nothing of the refused message arrives: the next message is the marker sent after it.
      const marker = msg({ payload: 'marker' });
      await pair.a.send(marker);
      expect((await pair.b.receive({ timeoutMs: 10_000 }))?.id).toBe(marker.id);
      expect(await pair.b.receive({ timeoutMs: 20 })).toBeNull();
    });

    it(`carries ${stressCount} messages with none lost, none duplicated, order kept`, async () => {
      await startPair();
      const ids = Array.from({ length: stressCount }, (_, i) => msg({ payload: { seq: i } }));
      const received: Message[] = [];
      const receiver = (async () => {
        while (received.length < stressCount) {
          const m = await pair.b.receive({ timeoutMs: 30_000 });
          if (m === null) break;
          received.push(m);
        }
      })();
      for (const m of ids) await pair.a.send(m);
      await receiver;
      expect(received.length).toBe(stressCount);
      expect(received.map((m) => (m.payload as { seq: number }).seq)).toEqual(ids.map((_, i) => i));
      expect(new Set(received.map((m) => m.id)).size).toBe(stressCount);
      expect(await pair.b.receive({ timeoutMs: 20 })).toBeNull();
    });

    it(`leaks no handles or listeners over ${churnIterations} connect-then-close cycles`, async () => {
      const churn = options.churn ?? (async () => {
        const p = await options.createPair();
        await p.b.start();
        await p.a.start();
        await p.connect?.();
        await p.a.stop();
        await p.b.stop();
        await p.cleanup?.();
      });
      await churn(); // warm-up: lazily created, process-wide resources are not leaks
      await tick();
      const baseline = resourceCounts();
      const baseListeners = PROCESS_EVENTS.map((e) => process.listenerCount(e));
      const baseExtra = options.listenerCount?.() ?? 0;
      for (let i = 0; i < churnIterations; i++) await churn();
      // Closing handles completes asynchronously; give the loop turns (not a timed assertion).
      let left: string[] = [];
      for (let i = 0; i < 500; i++) {
        left = excess(baseline, resourceCounts());
        if (left.length === 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(left).toEqual([]);
      expect(PROCESS_EVENTS.map((e) => process.listenerCount(e))).toEqual(baseListeners);
      expect(options.listenerCount?.() ?? 0).toBe(baseExtra);
    });
  });
}
