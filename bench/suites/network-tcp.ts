// raw.net_socket / network.tcp_presigned, raw.ws / network.ws_presigned, network.tcp_verified:
// throughput of ~450-byte presigned frames over 127.0.0.1, receiver draining every message.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { Identity, createMessage, encodeMessage, signMessage, type Message } from '@converge/core';
import { TcpTransport } from '@converge/transport-tcp';
import { WebSocketTransport } from '@converge/transport-websocket';
import { encodeFrame } from '@converge/network/internal';
import { IdentityRegistry, MessageVerifier, VerifierPool, receiveVerified } from '@converge/network';
import type { BenchContext } from '../harness.js';

const WINDOW = 1024; // sends in flight per await

function presigned(alice: Identity, recipient: string, count: number): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < count; i++) {
    out.push(signMessage(createMessage({ recipient, payload: { seq: i, note: 'x'.repeat(112), kind: 'bench' } }), alice));
  }
  return out;
}

/** Counts 4-byte-prefixed frames in a stream without decoding them. */
function frameCounter(onFrames: (n: number) => void): (chunk: Buffer) => void {
  let header: Buffer = Buffer.alloc(0);
  let skip = 0;
  return (chunk) => {
    let pos = 0;
    let n = 0;
    while (pos < chunk.length) {
      if (skip > 0) {
        const take = Math.min(skip, chunk.length - pos);
        skip -= take;
        pos += take;
        if (skip === 0) n++;
        continue;
      }
      const need = 4 - header.length;
      const part = chunk.subarray(pos, pos + need);
      header = header.length === 0 && part.length === 4 ? part : Buffer.concat([header, part]);
      pos += part.length;
      if (header.length === 4) {
        skip = header.readUInt32BE(0);
        header = Buffer.alloc(0);
        if (skip === 0) n++;
      }
    }
    if (n > 0) onFrames(n);
  };
}

async function rawNet(frames: Buffer[], total: number): Promise<number> {
  let counted = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const server = net.createServer((s) =>
    s.on(
      'data',
      frameCounter((n) => {
        counted += n;
        if (counted >= total) done();
      }),
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('connect', r));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    if (!socket.write(frames[i % frames.length]!)) await new Promise((r) => socket.once('drain', r));
  }
  await finished;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  socket.destroy();
  await new Promise((r) => server.close(r));
  return total / secs;
}

async function drain(receive: () => Promise<Message | null>, total: number): Promise<void> {
  for (let got = 0; got < total; got++) {
    if ((await receive()) === null) throw new Error(`receiver stopped after ${got} messages`);
  }
}

async function pump(send: (m: Message) => Promise<void>, msgs: Message[], total: number): Promise<void> {
  let last: Promise<void> = Promise.resolve();
  for (let i = 0; i < total; i++) {
    last = send(msgs[i % msgs.length]!);
    if (i % WINDOW === WINDOW - 1) await last;
  }
  await last;
}

/** Messages/s of `total` windowed sends from `a` while `b` drains them; then stops both. */
async function windowedRate(
  a: { send(m: Message): Promise<void>; stop(): Promise<void> },
  b: { receive(): Promise<Message | null>; stop(): Promise<void> },
  msgs: Message[],
  total: number,
): Promise<number> {
  const t0 = process.hrtime.bigint();
  await Promise.all([pump((m) => a.send(m), msgs, total), drain(() => b.receive(), total)]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await a.stop();
  await b.stop();
  return total / secs;
}

async function tcpPresigned(msgs: Message[], total: number, bob: Identity): Promise<number> {
  const b = new TcpTransport({ identity: bob, maxReceiveQueue: 100_000 });
  const a = new TcpTransport({ listen: false });
  await b.start();
  await a.start();
  a.addPeer(bob.fingerprint, b.address);
  return windowedRate(a, b, msgs, total);
}

async function rawWs(frames: Buffer[], total: number): Promise<number> {
  let counted = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws: WebSocket) =>
    ws.on('message', () => {
      if (++counted >= total) done();
    }),
  );
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`, { perMessageDeflate: false });
  await new Promise((r) => ws.once('open', r));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    if (ws.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => ws.send(frames[i % frames.length]!, r));
    else ws.send(frames[i % frames.length]!);
  }
  await finished;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  ws.terminate();
  await new Promise((r) => wss.close(r));
  return total / secs;
}

async function wsPresigned(msgs: Message[], total: number): Promise<number> {
  const b = new WebSocketTransport({ port: 0, maxReceiveQueue: 100_000 });
  await b.start();
  const a = new WebSocketTransport({ url: b.listenUrl });
  await a.start();
  return windowedRate(a, b, msgs, total);
}

/** Main-thread busy time per message of the last `tcpVerified` run, µs (event-loop utilisation). */
let mainThreadUsPerMsg = 0;

async function tcpVerified(msgs: Message[], alice: Identity, bob: Identity, pool: VerifierPool | undefined): Promise<number> {
  const registry = new IdentityRegistry();
  registry.register(alice);
  const verifier = new MessageVerifier({ registry });
  const b = new TcpTransport({ identity: bob, maxReceiveQueue: 100_000 });
  const a = new TcpTransport({ listen: false });
  await b.start();
  await a.start();
  a.addPeer(bob.fingerprint, b.address);
  const total = msgs.length;
  const t0 = process.hrtime.bigint();
  const elu0 = performance.eventLoopUtilization();
  await Promise.all([pump((m) => a.send(m), msgs, total), drain(() => receiveVerified(b, verifier, { pool }), total)]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  mainThreadUsPerMsg = (performance.eventLoopUtilization(elu0).active * 1000) / total;
  await a.stop();
  await b.stop();
  if (verifier.verified !== total) throw new Error(`verified ${verifier.verified} of ${total}`);
  return total / secs;
}

export default async function networkTcpBench(ctx: BenchContext): Promise<void> {
  const alice = Identity.generate();
  const bob = Identity.generate();
  const msgs = presigned(alice, bob.fingerprint, 1024);
  const frames = msgs.map((m) => encodeFrame(encodeMessage(m)));
  ctx.log(`frame size ${frames[0]!.byteLength} bytes`);
  const total = Math.max(10_000, Math.round(400_000 * ctx.scale));
  // Warm-up (JIT) with a short run of each path.
  await rawNet(frames, 20_000);
  await tcpPresigned(msgs, 20_000, bob);
  ctx.report({ name: 'raw.net_socket', value: await rawNet(frames, total), unit: 'msgs/s' });
  ctx.report({ name: 'network.tcp_presigned', value: await tcpPresigned(msgs, total, bob), unit: 'msgs/s', baseline: 'raw.net_socket' });

  const wsTotal = Math.max(10_000, Math.round(200_000 * ctx.scale));
  await rawWs(frames, 10_000);
  await wsPresigned(msgs, 10_000);
  ctx.report({ name: 'raw.ws', value: await rawWs(frames, wsTotal), unit: 'msgs/s' });
  ctx.report({ name: 'network.ws_presigned', value: await wsPresigned(msgs, wsTotal), unit: 'msgs/s', baseline: 'raw.ws' });

  // Fresh, unique, recently timestamped messages (replay and skew checks are real).
  const verifiedTotal = Math.max(5_000, Math.round(60_000 * ctx.scale));
  const fresh = presigned(alice, bob.fingerprint, verifiedTotal);
  // The honest main-thread path (each signature verified on this thread, `check`), then the pool
  // path (`receiveVerified` with a `VerifierPool`: signatures on worker threads, pipelined).
  ctx.report({
    name: 'network.tcp_verified_single_thread',
    value: await tcpVerified(presigned(alice, bob.fingerprint, verifiedTotal), alice, bob, undefined),
    unit: 'msgs/s',
  });
  ctx.log(`main thread busy ${mainThreadUsPerMsg.toFixed(1)} µs/msg (sender and receiver share it)`);
  const pool = new VerifierPool();
  await pool.start();
  try {
    ctx.log(`verifier pool: ${pool.size} workers`);
    ctx.report({
      name: 'network.tcp_verified',
      value: await tcpVerified(fresh, alice, bob, pool),
      unit: 'msgs/s',
      baseline: 'network.tcp_verified_single_thread',
    });
    ctx.log(`main thread busy ${mainThreadUsPerMsg.toFixed(1)} µs/msg with the pool`);
  } finally {
    await pool.stop();
  }
}
