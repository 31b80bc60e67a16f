// Wire fuzzer: many raw connections send malformed, truncated, oversize, forged and replayed
// frames to a live TcpTransport and a live WebSocketTransport while a legitimate peer sends
// signed messages checked by MessageVerifier. Asserts: every legitimate message arrives, once,
// in order; every bad frame is counted in the category the protocol makes determinable;
// the process stays up; the heap returns to its baseline (after a full GC).
// Knobs (see README.md): CONVERGE_FUZZ_FRAMES (total bad frames, split between TCP and WS;
// default 100,000), CONVERGE_FUZZ_CONNECTIONS (raw connections per transport, default 32),
// CONVERGE_FUZZ_LEGIT (legitimate messages per transport, default 2,000), CONVERGE_FUZZ_SEED.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, encodeMessage, signMessage, type Message } from '@converge/core';
import type { Transport } from '@converge/core';
import { IdentityRegistry } from '@converge/network';
import { MessageVerifier, receiveVerified } from '@converge/network';
import { encodeFrame } from '@converge/network/internal';
import { TcpTransport } from '@converge/transport-tcp';
import { WebSocketTransport } from '../../src/index.js';
import { cleanupAfterEach, started, until } from '../../../../test/support/transport-helpers.js';
import { MiB, closed, envInt, prng, rawSocket, settledHeap, write } from '../../../../test/support/wire.js';

const FRAMES = envInt('CONVERGE_FUZZ_FRAMES', 100_000);
const CONNECTIONS = envInt('CONVERGE_FUZZ_CONNECTIONS', 32);
const LEGIT = envInt('CONVERGE_FUZZ_LEGIT', 2_000);
const SEED = envInt('CONVERGE_FUZZ_SEED', 0x5eed);
const MAX_FRAME = 64 * 1024;

const alice = Identity.generate();
const mallory = Identity.generate();
const bob = Identity.generate();
const registry = new IdentityRegistry();
registry.register(alice);
registry.register(mallory);

const cleanup = cleanupAfterEach();

/** What was sent, by category. */
interface Sent {
  malformed: number;
  oversize: number;
  truncated: number;
  short: number;
  forged: number;
  replayed: number;
  originals: number;
  text: number;
  frames: number;
  connections: number;
}
const zero = (): Sent => ({ malformed: 0, oversize: 0, truncated: 0, short: 0, forged: 0, replayed: 0, originals: 0, text: 0, frames: 0, connections: 0 });

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
/** A well-delimited body no decoder accepts (0xc1 is never used by msgpack). */
function malformedBody(rnd: () => number): Buffer {
  return rnd() < 0.1 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0xc1]), randomBytes(Math.floor(rnd() * 64))]);
}
function forgedBody(): Uint8Array {
  return encodeMessage(createMessage({ sender: alice.fingerprint, recipient: bob.fingerprint, payload: 'forged', signature: randomBytes(64) }));
}
let signedN = 0;
function malloryBody(): Uint8Array {
  return encodeMessage(signMessage(createMessage({ recipient: bob.fingerprint, payload: { m: signedN++ } }), mallory));
}

/** Drains `t` through the verifier until `done()`; collects the legitimate sequence numbers. */
function consume(t: Transport, verifier: MessageVerifier, done: () => boolean): { legit: number[]; mallory: number; finished: Promise<void> } {
  const out = { legit: [] as number[], mallory: 0, finished: Promise.resolve() };
  out.finished = (async () => {
    while (!done()) {
      const m: Message | null = await receiveVerified(t, verifier, { timeoutMs: 50 });
      if (m === null) continue;
      if (m.sender === alice.fingerprint) out.legit.push((m.payload as { i: number }).i);
      else out.mallory++;
    }
  })();
  return out;
}

/** The receiving side under fuzz: a transport with the server counters both TCP and WebSocket keep. */
interface FuzzReceiver extends Transport {
  readonly queued: number;
  readonly openConnections: number;
  readonly stats: { framesReceived: number; rejectedMalformed: number; rejectedOversize: number; droppedReceiveQueueFull: number; connectionsOpened: number };
}

/** One fuzz run against a receiver of type `R` (see `fuzz`). */
interface FuzzRun<R extends FuzzReceiver> {
  /** Makes and starts the receiver and the legitimate peer (the sender), connected to it. */
  open(): Promise<{ receiver: R; sender: Transport }>;
  /** Runs the raw connections against `receiver` until the bad-frame budget is spent, counting what they send in `sent`. */
  attack(receiver: R, sent: Sent): Promise<void>;
  /** The transport's own checks once every frame is in; returns the number of bad frames sent. */
  check(receiver: R, sent: Sent, verifier: MessageVerifier): number;
}

/**
 * The fuzz both transports get: the heap baseline, then `open`; `LEGIT` signed messages from the
 * sender while `attack` runs, then every legitimate message has arrived once and in order, every
 * bad frame is counted in its category, and after both transports stop the heap is back within
 * 50 MiB of its baseline. `tag` and `unit` name the run and what it counts in its log line
 * (`tcp`/`bad frames`, `ws`/`bad messages`).
 */
async function fuzz<R extends FuzzReceiver>(tag: string, unit: string, run: FuzzRun<R>): Promise<void> {
  const heap0 = await settledHeap();
  const { receiver: b, sender: a } = await run.open();
  const verifier = new MessageVerifier({ registry });
  const sent = zero();
  let fuzzing = true;
  const consumer = consume(b, verifier, () => !fuzzing && b.queued === 0 && consumer.legit.length >= LEGIT);
  const started = Date.now();
  const legitSender = (async () => {
    for (let i = 0; i < LEGIT; i++) {
      await a.send(signMessage(createMessage({ recipient: bob.fingerprint, payload: { i } }), alice));
      if (i % 64 === 0) await new Promise((r) => setImmediate(r));
    }
  })();
  await run.attack(b, sent);
  await legitSender;
  const wellFormed = LEGIT + 2 * sent.replayed + sent.forged;
  await until(() => b.stats.framesReceived === wellFormed && b.openConnections === 1);
  fuzzing = false;
  await consumer.finished;
  const seconds = (Date.now() - started) / 1000;

  expect(consumer.legit).toEqual(Array.from({ length: LEGIT }, (_, i) => i));
  expect(consumer.mallory).toBe(sent.originals);
  expect(b.stats.rejectedMalformed).toBe(sent.malformed);
  expect(b.stats.rejectedOversize).toBe(sent.oversize);
  expect(b.stats.droppedReceiveQueueFull).toBe(0);
  expect(verifier.rejections.bad_signature).toBe(sent.forged);
  expect(verifier.rejections.replay).toBe(sent.replayed);
  // Every raw connection was opened; only the legitimate peer's remains.
  expect(b.stats.connectionsOpened).toBe(sent.connections + 1);
  const badFrames = run.check(b, sent, verifier);
  await a.stop();
  await b.stop();
  const heap1 = await settledHeap();
  console.log(
    `[wire-fuzz ${tag}] ${badFrames} ${unit} (${JSON.stringify(sent)}) + ${LEGIT} legit in ${seconds.toFixed(1)} s = ` +
      `${Math.round((badFrames + LEGIT) / seconds)} frames/s; heap ${((heap1 - heap0) / MiB).toFixed(1)} MiB vs baseline`,
  );
  expect(heap1 - heap0).toBeLessThan(50 * MiB);
}

describe('wire fuzzer', () => {
  it(`TcpTransport: ${Math.ceil(FRAMES / 2)} bad frames from ${CONNECTIONS} raw connections, ${LEGIT} legitimate messages`, async () => {
    const budget = Math.ceil(FRAMES / 2);
    await fuzz('tcp', 'bad frames', {
      open: async () => {
        const b = await started(new TcpTransport({ identity: bob, maxFrameBytes: MAX_FRAME }), cleanup);
        const a = await started(new TcpTransport({ identity: alice, listen: false }), cleanup);
        a.addPeer(bob.fingerprint, b.address);
        return { receiver: b, sender: a };
      },
      attack: async (b, sent) => {
        let remaining = budget;
        const worker = async (w: number): Promise<void> => {
          const rnd = prng(SEED + w);
          let s = await rawSocket(b.port);
          sent.connections++;
          while (remaining > 0) {
            const r = rnd();
            let endsConnection = false;
            let data: Buffer;
            if (r < 0.01) {
              // Oversize prefix: the server closes the connection at once.
              data = Buffer.concat([u32(MAX_FRAME + 1 + Math.floor(rnd() * 0xfff00000)), randomBytes(8)]);
              sent.oversize++;
              remaining--;
              endsConnection = true;
            } else if (r < 0.02) {
              // A frame cut short (inside the prefix or the body), then the socket ends.
              const whole = encodeFrame(malloryBody());
              data = whole.subarray(0, 1 + Math.floor(rnd() * (whole.byteLength - 1)));
              sent.truncated++;
              remaining--;
              endsConnection = true;
            } else if (r < 0.05) {
              data = Buffer.from(encodeFrame(forgedBody()));
              sent.forged++;
              remaining--;
            } else if (r < 0.08) {
              const f = encodeFrame(malloryBody());
              data = Buffer.concat([f, f]);
              sent.originals++;
              sent.replayed++;
              remaining -= 2;
            } else {
              // A batch of malformed frames in one write.
              const parts: Buffer[] = [];
              const n = Math.min(remaining, 1 + Math.floor(rnd() * 16));
              for (let i = 0; i < n; i++) {
                const body = malformedBody(rnd);
                parts.push(u32(body.byteLength), body);
              }
              data = Buffer.concat(parts);
              sent.malformed += n;
              remaining -= n;
            }
            sent.frames++;
            if (endsConnection) {
              s.end(data);
              await closed(s);
              if (remaining <= 0) return;
              s = await rawSocket(b.port);
              sent.connections++;
            } else {
              const p = write(s, data);
              if (p) await p;
            }
          }
          s.end();
          await closed(s);
        };
        await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
      },
      check: (b, sent, verifier) => {
        expect(b.stats.rejectedTruncated).toBe(sent.truncated);
        expect(verifier.rejections.unknown_sender + verifier.rejections.malformed + verifier.rejections.stale).toBe(0);
        // Every raw connection was also closed.
        expect(b.stats.connectionsClosed).toBe(sent.connections);
        const badFrames = sent.malformed + sent.oversize + sent.truncated + sent.forged + 2 * sent.replayed;
        expect(badFrames).toBeGreaterThanOrEqual(budget);
        return badFrames;
      },
    });
  });

  it(`WebSocketTransport: ${Math.floor(FRAMES / 2)} bad messages from ${CONNECTIONS} raw clients, ${LEGIT} legitimate messages`, async () => {
    const budget = Math.floor(FRAMES / 2);
    await fuzz('ws', 'bad messages', {
      open: async () => {
        const server = await started(new WebSocketTransport({ identity: bob, maxFrameBytes: MAX_FRAME }), cleanup);
        const client = await started(new WebSocketTransport({ url: server.listenUrl, identity: alice }), cleanup);
        return { receiver: server, sender: client };
      },
      attack: async (server, sent) => {
        const open = async (): Promise<WebSocket> => {
          const ws = new WebSocket(server.listenUrl, { perMessageDeflate: false });
          ws.on('error', () => undefined);
          await new Promise((r, j) => {
            ws.once('open', r);
            ws.once('close', j);
          });
          sent.connections++;
          return ws;
        };
        const wsClosed = (ws: WebSocket): Promise<void> => new Promise((r) => (ws.readyState === WebSocket.CLOSED ? r() : ws.once('close', () => r())));
        let remaining = budget;
        const worker = async (w: number): Promise<void> => {
          const rnd = prng(SEED * 7 + w);
          let ws = await open();
          let inFlight = 0;
          while (remaining > 0) {
            const r = rnd();
            remaining--;
            sent.frames++;
            if (r < 0.005) {
              // Over maxPayload: ws refuses it (1009) before buffering; the connection closes.
              ws.send(Buffer.alloc(MAX_FRAME + 5 + Math.floor(rnd() * 1024)));
              sent.oversize++;
              await wsClosed(ws);
              if (remaining <= 0) return;
              ws = await open();
              continue;
            }
            let data: Buffer | string;
            let binary = true;
            if (r < 0.05) {
              data = Buffer.concat([u32(MAX_FRAME + 1 + Math.floor(rnd() * 1e6)), randomBytes(4)]);
              sent.oversize++;
            } else if (r < 0.15) {
              // Shorter than the prefix, or shorter than the length it announces.
              data = rnd() < 0.5 ? randomBytes(Math.floor(rnd() * 4)) : Buffer.concat([u32(10 + Math.floor(rnd() * 1000)), randomBytes(Math.floor(rnd() * 9))]);
              sent.short++;
            } else if (r < 0.18) {
              data = Buffer.from(encodeFrame(forgedBody()));
              sent.forged++;
            } else if (r < 0.21) {
              const f = Buffer.from(encodeFrame(malloryBody()));
              ws.send(f, { binary: true });
              data = f;
              sent.originals++;
              sent.replayed++;
              remaining--;
            } else {
              const body = malformedBody(rnd);
              data = Buffer.concat([u32(body.byteLength), body]);
              sent.malformed++;
              if (rnd() < 0.1) {
                // As text: taken as its UTF-8 bytes, so only ASCII keeps the same bytes.
                data = Buffer.concat([u32(3), Buffer.from('abc')]).toString('latin1');
                binary = false;
                sent.text++;
              }
            }
            inFlight++;
            const wait = ws.bufferedAmount > 1 * MiB;
            ws.send(data, { binary }, () => inFlight--);
            if (wait || inFlight > 256) {
              // Wait for the socket to catch up: an empty message (short data too, and counted so).
              sent.short++;
              await new Promise((r2) => ws.send(Buffer.alloc(0), () => r2(undefined)));
            }
          }
          ws.close();
          await wsClosed(ws);
        };
        await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
      },
      check: (server, sent) => {
        expect(server.stats.rejectedShort).toBe(sent.short);
        expect(server.stats.textFrames).toBe(sent.text);
        return sent.malformed + sent.oversize + sent.short + sent.forged + 2 * sent.replayed;
      },
    });
  });
});
