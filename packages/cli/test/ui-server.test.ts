// The --ui server: the page's origin only, a proven key before anything is sent, frames from
// one client passed on (unverified) to the other pages, bounded connections.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Identity, createMessage, encodeMessage, signMessage } from '@converge/core';
import {
  WS_AUTH_PROTOCOL,
  WebSocketClientTransport,
  WebSocketTransport,
  encodeAuthProof,
  readChallengeMessage,
  type WebSocketConstructor,
} from '@converge/transport-websocket';
import { UiServer } from '../src/ui/server.js';
import { frameBytes } from '../src/ui/protocol.js';
import { until } from './support.js';

const servers: UiServer[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const s of servers.splice(0)) await s.close();
});

async function start(options: Partial<ConstructorParameters<typeof UiServer>[0]> = {}): Promise<UiServer> {
  const s = new UiServer({
    port: 0,
    relay: Identity.generate(),
    assets: async () => ({ js: new TextEncoder().encode('/*page*/'), source: 'built' }),
    ...options,
  });
  await s.start();
  servers.push(s);
  return s;
}

function wsUrl(s: UiServer): string {
  return `ws://127.0.0.1:${s.port}/ws`;
}

interface Client {
  ws: WebSocket;
  /** 101 when the upgrade succeeded, else the HTTP status of the refusal. */
  status: Promise<number>;
  frames: Uint8Array[];
  closed: Promise<{ code: number; reason: string }>;
  challenge: Promise<Uint8Array>;
}

function open(url: string, headers: Record<string, string> = {}): Client {
  const ws = new WebSocket(url, [WS_AUTH_PROTOCOL], { headers });
  sockets.push(ws);
  const frames: Uint8Array[] = [];
  let gotChallenge!: (c: Uint8Array) => void;
  const challenge = new Promise<Uint8Array>((r) => (gotChallenge = r));
  let first = true;
  ws.on('message', (d: Buffer) => {
    const data = new Uint8Array(d);
    if (first) {
      first = false;
      gotChallenge(readChallengeMessage(data)!);
    } else frames.push(data);
  });
  ws.on('error', () => undefined);
  const status = new Promise<number>((r) => {
    ws.once('upgrade', () => r(101));
    ws.once('unexpected-response', (_req, res) => {
      r(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
  });
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  return { ws, frames, closed, challenge, status };
}

async function authed(s: UiServer, identity = Identity.generate()): Promise<Client> {
  const c = open(wsUrl(s));
  c.ws.send(encodeAuthProof(identity, await c.challenge, wsUrl(s)));
  await until(() => s.observers.some((o) => o.id === identity.fingerprint));
  return c;
}

/** `p`, or a failure after `ms` (so a missing refusal fails fast instead of hanging). */
function within<T>(p: Promise<T>, ms = 5_000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms))]);
}

describe('UiServer', () => {
  it('serves the page with the relay key and a strict CSP, and the script', async () => {
    const relay = Identity.generate();
    const s = await start({ relay });
    const page = await fetch(s.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain(`content="${Buffer.from(relay.publicKey).toString('hex')}"`);
    const js = await fetch(`${s.url}app.js`);
    expect(await js.text()).toBe('/*page*/');
    expect((await fetch(`${s.url}nope`)).status).toBe(404);
  });

  it("the page's transport (WebSocketClientTransport, in-band challenge) authenticates and receives what is sent to pages", async () => {
    const s = await start();
    const id = Identity.generate();
    const t = new WebSocketClientTransport({ url: wsUrl(s), identity: id, WebSocket: WebSocket as unknown as WebSocketConstructor });
    await t.start();
    try {
      await until(() => s.observers.some((o) => o.id === id.fingerprint));
      const msg = signMessage(createMessage({ payload: { type: 'hello' } }), Identity.generate());
      s.observers[0]!.send(frameBytes(encodeMessage(msg)), false);
      const got = await t.receive({ timeoutMs: 5_000 });
      expect(got?.id).toBe(msg.id);
      expect(got?.payload).toEqual({ type: 'hello' });
    } finally {
      await t.stop();
    }
  });

  it('a Node WebSocketTransport client (challenge from the 101 header) authenticates too', async () => {
    const s = await start();
    const id = Identity.generate();
    const t = new WebSocketTransport({ url: wsUrl(s), identity: id });
    await t.start();
    try {
      await until(() => s.observers.some((o) => o.id === id.fingerprint));
      expect(s.stats.authenticated).toBe(1);
    } finally {
      await t.stop();
    }
  });

  it('sends nothing before the proof, refuses a bad proof with 1008, and counts it', async () => {
    const s = await start();
    const c = open(wsUrl(s));
    const challenge = await c.challenge;
    expect(challenge.byteLength).toBe(32);
    const proof = new Uint8Array(encodeAuthProof(Identity.generate(), challenge, wsUrl(s)));
    proof[50]! ^= 1; // a bit of the signature
    c.ws.send(proof);
    expect((await within(c.closed)).code).toBe(1008);
    expect(s.stats.refused).toBe(1);
    expect(s.observers).toEqual([]);
    expect(c.frames).toEqual([]);
  });

  it('refuses a proof for a challenge the server did not send (a replayed proof)', async () => {
    const s = await start();
    const id = Identity.generate();
    const c = open(wsUrl(s));
    await c.challenge;
    c.ws.send(encodeAuthProof(id, new Uint8Array(32), wsUrl(s)));
    expect((await within(c.closed)).reason).toContain('bad_signature');
  });

  it('refuses a WebSocket from another origin (cross-site hijacking) and accepts its own', async () => {
    const s = await start();
    const evil = open(wsUrl(s), { origin: 'http://evil.example' });
    expect(await evil.status).toBe(403);
    expect(s.stats.refused).toBe(1);
    const own = open(wsUrl(s), { origin: `http://127.0.0.1:${s.port}` });
    expect(await own.status).toBe(101);
    expect((await own.challenge).byteLength).toBe(32);
  });

  it('passes an authenticated client frame to the other pages, not back to the sender; refuses a non-frame', async () => {
    const s = await start();
    const a = await authed(s);
    const b = await authed(s);
    const msg = frameBytes(encodeMessage(signMessage(createMessage({ payload: { type: 'x' } }), Identity.generate())));
    a.ws.send(msg);
    await until(() => b.frames.length === 1);
    expect(b.frames[0]).toEqual(msg);
    expect(a.frames).toEqual([]);
    expect(s.stats.forwarded).toBe(1);
    a.ws.send(new Uint8Array([0, 0, 0, 50, 1]));
    await until(() => s.stats.refusedFrames === 1);
    expect(b.frames).toHaveLength(1);
  });

  it('accepts at most maxObservers connections (503 beyond)', async () => {
    const s = await start({ maxObservers: 1 });
    await authed(s);
    const extra = open(wsUrl(s));
    expect(await extra.status).toBe(503);
    expect(s.stats.refused).toBe(1);
    expect(s.observers).toHaveLength(1);
  });

  it('drops droppable frames for a page that is behind and counts them', async () => {
    const s = await start({ maxBufferedBytes: 0 });
    await authed(s);
    const o = s.observers[0]!;
    // 12.8 MB written in one go cannot all leave at once: once bytes wait, droppable copies are dropped.
    let sent = 0;
    for (let i = 0; i < 200; i++) if (o.send(new Uint8Array(64 * 1024), true)) sent++;
    expect(sent).toBeGreaterThan(0);
    expect(s.stats.dropped).toBe(200 - sent);
    expect(s.stats.dropped).toBeGreaterThan(0);
    // State messages are never dropped.
    expect(o.send(new Uint8Array(8), false)).toBe(true);
  });
});
