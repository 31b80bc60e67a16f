// WebSocketTransport on real sockets: reference bytes, text/short data, maxPayload,
// routing from the server, reconnect, clean shutdown.
import type net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { describe, expect, it } from 'vitest';
import { Identity, NotStartedError, TransportError, bytesToHex, createMessage, encodeMessage, hexToBytes, signMessage } from '@converge/core';
import { encodeFrame } from '@converge/network/internal';
import { WebSocketTransport } from '../src/index.js';
import { cleanupAfterEach, itWithVectors, namedVectorMessage, until, vectors } from '../../../test/support/transport-helpers.js';

const alice = Identity.generate();
const bob = Identity.generate();
const cleanup = cleanupAfterEach();

async function server(options: ConstructorParameters<typeof WebSocketTransport>[0] = {}): Promise<WebSocketTransport> {
  const t = new WebSocketTransport({ port: 0, ...options });
  await t.start();
  cleanup.push(() => t.stop());
  return t;
}
async function client(url: string | (() => string), options: ConstructorParameters<typeof WebSocketTransport>[0] = {}): Promise<WebSocketTransport> {
  const t = new WebSocketTransport({ url, reconnect: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 }, ...options });
  await t.start();
  cleanup.push(() => t.stop());
  return t;
}
async function rawClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise((r) => ws.once('open', r));
  cleanup.push(async () => ws.terminate());
  return ws;
}

describe('WebSocketTransport', () => {
  itWithVectors('sends websocket_frames byte for byte: one binary message per converge message', async () => {
    const got: { data: Buffer; binary: boolean }[] = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    cleanup.push(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws) => ws.on('message', (data: Buffer, binary) => got.push({ data, binary })));
    const c = await client(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`);
    for (const f of vectors.websocket_frames.frames) await c.send(namedVectorMessage(f.message));
    await until(() => got.length === vectors.websocket_frames.frames.length);
    vectors.websocket_frames.frames.forEach((f: { data: string; length: number }, i: number) => {
      expect(got[i]!.binary).toBe(true);
      expect(bytesToHex(got[i]!.data)).toBe(f.data);
      expect(got[i]!.data.readUInt32BE(0)).toBe(f.length);
    });
  });

  itWithVectors('receives reference frames, accepts text frames as UTF-8 bytes, ignores (and counts) short data', async () => {
    const s = await server();
    const ws = await rawClient(s.listenUrl);
    ws.send(Buffer.from([1, 2])); // shorter than the prefix
    ws.send(Buffer.from([0, 0, 0, 9, 1])); // shorter than its prefix claims
    for (const f of vectors.websocket_frames.frames) ws.send(hexToBytes(f.data));
    // A text frame is taken as its UTF-8 bytes (a msgpack message is rarely valid UTF-8, so
    // in practice only short text reaches us): counted as text, then as short.
    ws.send('ab');
    for (const f of vectors.websocket_frames.frames) {
      const m = await s.receive({ timeoutMs: 10_000 });
      expect(bytesToHex(encodeFrame(encodeMessage(m!)))).toBe(f.data);
    }
    await until(() => s.stats.rejectedShort === 3 && s.stats.textFrames === 1);
    expect(s.stats.framesReceived).toBe(vectors.websocket_frames.frames.length);
  });

  it('refuses a WS message over maxFrameBytes + 4 through ws maxPayload: counted, connection closed (1009)', async () => {
    const s = await server({ maxFrameBytes: 1000 });
    const ws = await rawClient(s.listenUrl);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(Buffer.alloc(2000));
    expect(await closed).toBe(1009);
    await until(() => s.stats.rejectedOversize === 1);
    const c = await client(s.listenUrl); // others are unaffected
    await c.send(signMessage(createMessage({ payload: 'fine' }), alice));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe('fine');
  });

  it('server routes to the client announced in x-converge-agent, broadcasts without recipient, refuses unknown recipients', async () => {
    const s = await server({ identity: bob });
    const ca = await client(() => s.listenUrl, { identity: alice });
    await until(() => s.openConnections === 1);
    await s.send(signMessage(createMessage({ recipient: alice.fingerprint, payload: 'to alice' }), bob));
    expect((await ca.receive({ timeoutMs: 10_000 }))?.payload).toBe('to alice');
    await s.send(signMessage(createMessage({ payload: 'to all' }), bob));
    expect((await ca.receive({ timeoutMs: 10_000 }))?.payload).toBe('to all');
    await expect(s.send(signMessage(createMessage({ recipient: 'nobody', payload: 'x' }), bob))).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });
  });

  it('a send made while the server is gone is rejected with ERR_CONNECT when the connect cycle fails, and counted', async () => {
    const s = await server({ identity: bob });
    const c = await client(s.listenUrl, { identity: alice });
    await until(() => s.openConnections === 1);
    await s.stop();
    await until(() => c.openConnections === 0);
    await expect(c.send(signMessage(createMessage({ payload: 'lost' }), alice))).rejects.toMatchObject({ code: 'ERR_CONNECT' });
    expect(c.stats.sendErrors).toBe(1);
  });

  it('client reconnects after the server restarts; start() fails with ERR_CONNECT when nothing listens', async () => {
    const s = await server();
    const port = s.port;
    const c = await client(s.listenUrl);
    await c.send(signMessage(createMessage({ payload: 1 }), alice));
    expect((await s.receive({ timeoutMs: 10_000 }))?.payload).toBe(1);
    await s.stop();
    await until(() => c.openConnections === 0);
    const s2 = await server({ port });
    await c.send(signMessage(createMessage({ payload: 2 }), alice));
    expect((await s2.receive({ timeoutMs: 10_000 }))?.payload).toBe(2);
    expect(c.stats.reconnects).toBeGreaterThanOrEqual(1);
    await s2.stop();
    const lonely = new WebSocketTransport({ url: `ws://127.0.0.1:${port}`, reconnect: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 } });
    const err = await lonely.start().catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.code).toBe('ERR_CONNECT');
    expect(lonely.started).toBe(false);
    await expect(lonely.send(signMessage(createMessage({}), alice))).rejects.toBeInstanceOf(NotStartedError);
  });
});
