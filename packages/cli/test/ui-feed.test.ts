// The --ui feed: task states from a real TaskManager's events, cleared auctions, latency, and
// the agents' own signed messages copied from their transports to a connected page.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Identity, createMessage, decodeMessage, signMessage, verifyMessage, type Message } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { WebSocketClientTransport, type WebSocketConstructor } from '@converge/transport-websocket';
import { TaskManager } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { UiFeed, type RunSources } from '../src/ui/feed.js';
import { UiServer, type UiObserver } from '../src/ui/server.js';
import { UI_STATE_TYPE, unframeBytes, type UiState } from '../src/ui/protocol.js';
import { until } from './support.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function server(): Promise<UiServer> {
  const s = new UiServer({ port: 0, relay: Identity.generate(), assets: async () => ({ js: new Uint8Array(), source: 'built' }) });
  await s.start();
  cleanup.push(() => s.close());
  return s;
}

/** A page-side recipient that keeps what it is sent (the feed's `onJoin` target). */
function collector(): UiObserver & { messages: Message[] } {
  const messages: Message[] = [];
  return { id: 'collector', messages, send: (frame) => (messages.push(decodeMessage(unframeBytes(frame)!)), true) };
}

function sources(taskManager: TaskManager, agents: Identity[]): RunSources {
  return {
    taskManager,
    agents: async () => agents.map((a) => ({ id: a.fingerprint, publicKey: a.publicKey, capabilities: [{ name: 'sum' }] })),
    pools: async () => [{ id: 'p', agents: agents.map((a) => a.fingerprint) }],
    roleOf: (id) => (id === agents[0]!.fingerprint ? 'coordinator' : 'worker'),
    rejected: () => 3,
  };
}

describe('UiFeed', () => {
  it('counts tasks through pending, claimed, completed, retried and dead-lettered; lists a cleared auction; measures latency', async () => {
    const relay = Identity.generate();
    const s = await server();
    const tm = new TaskManager({ store: new MemoryStore() });
    cleanup.push(() => tm.stop());
    const feed = new UiFeed({ server: s, relay, poolId: 'p', transport: 'local', total: () => 3, stateIntervalMs: 20 });
    cleanup.push(() => feed.close());
    const a = Identity.generate();
    const b = Identity.generate();
    feed.watch(sources(tm, [a, b]));
    const now = Date.now();
    await tm.submit({
      id: 't1',
      objective: 'sum',
      inputs: { submittedAt: now - 40 },
      constraints: { clearingPrice: 42, reservedFor: b.fingerprint, auctionType: 'second-price' },
    });
    await tm.submit({ id: 't2', objective: 'sum', inputs: {} });
    await tm.submit({ id: 't3', objective: 'sum', inputs: {}, constraints: { maxRetries: 0 } });
    const l1 = await tm.claim(b.fingerprint, 't1');
    await tm.report(b.fingerprint, 't1', 1, l1);
    const l2 = await tm.claim(b.fingerprint, 't2');
    await tm.fail('t2', 'try again', b.fingerprint, l2);
    const l3 = await tm.claim(b.fingerprint, 't3');
    await tm.fail('t3', 'broken', b.fingerprint, l3);

    const page = collector();
    await until(() => {
      feed.onJoin(page);
      const st = page.messages.at(-1)!.payload as unknown as UiState;
      return st.agents.length === 2;
    });
    const msg = page.messages.at(-1)!;
    expect(msg.sender).toBe(relay.fingerprint);
    expect(verifyMessage(msg, relay.publicKey)).toBe(true);
    const st = msg.payload as unknown as UiState;
    expect(st.type).toBe(UI_STATE_TYPE);
    expect(st.tasks).toMatchObject({ pending: 1, claimed: 0, completed: 1, dead: 1, retried: 1 });
    expect(st.auctions).toEqual([expect.objectContaining({ taskId: 't1', price: 42, winner: b.fingerprint, kind: 'second-price' })]);
    expect(st.latency.count).toBe(1);
    expect(st.latency.sumMs).toBeGreaterThanOrEqual(40);
    expect(st.agents.find((x) => x.id === a.fingerprint)?.role).toBe('coordinator');
    expect(st.pools).toEqual([{ id: 'p', members: [a.fingerprint, b.fingerprint] }]);
    expect(st.runRejected).toBe(3);
    expect(st.total).toBe(3);
  });

  it('copies every message sent on a tapped transport, still signed by its agent, to a page; a page that joins later gets the earlier ones replayed', async () => {
    const relay = Identity.generate();
    let feed: UiFeed | undefined;
    const s = new UiServer({ port: 0, relay, assets: async () => ({ js: new Uint8Array(), source: 'built' }), onJoin: (o) => feed?.onJoin(o) });
    await s.start();
    cleanup.push(() => s.close());
    feed = new UiFeed({ server: s, relay, poolId: 'p', transport: 'local', total: () => 0 });
    const f = feed;
    cleanup.push(() => f.close());
    const hub = new LocalHub();
    const alice = Identity.generate();
    const bob = Identity.generate();
    const ta = new LocalTransport(alice.fingerprint, { hub });
    const tb = new LocalTransport(bob.fingerprint, { hub });
    await ta.start();
    await tb.start();
    cleanup.push(
      () => ta.stop(),
      () => tb.stop(),
    );
    const tapped = f.tap(ta);
    expect(tapped.started).toBe(true);

    // Sent before any page is connected: delivered, and kept for a page that joins.
    const before = signMessage(createMessage({ recipient: bob.fingerprint, payload: { type: 'bid', auctionId: 'x', amount: 5 } }), alice);
    await tapped.send(before);
    expect((await tb.receive({ timeoutMs: 1_000 }))?.id).toBe(before.id);

    const page = new WebSocketClientTransport({
      url: `ws://127.0.0.1:${s.port}/ws`,
      identity: Identity.generate(),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    await page.start();
    cleanup.push(() => page.stop());
    await until(() => s.observers.length === 1);
    const after = signMessage(createMessage({ recipient: bob.fingerprint, payload: { type: 'done', taskId: 't' } }), alice);
    await tapped.send(after);

    const got = new Map<string, Message>();
    while (!got.has(after.id)) {
      const m = await page.receive({ timeoutMs: 3_000 });
      if (!m) throw new Error(`page got only ${[...got.keys()].join(', ')}`);
      got.set(m.id, m);
    }
    const state = [...got.values()].find((m) => m.sender === relay.fingerprint)!;
    expect(verifyMessage(state, relay.publicKey)).toBe(true);
    for (const id of [before.id, after.id]) {
      const copy = got.get(id)!;
      expect(copy.sender).toBe(alice.fingerprint);
      expect(verifyMessage(copy, alice.publicKey)).toBe(true);
    }
  });
});
