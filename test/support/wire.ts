// Helpers of the hardening tests: a seeded PRNG, raw TCP sockets with awaited writes, and a
// heap measurement after a full GC (exposed at run time through V8 flags when node was not
// started with --expose-gc).
import net from 'node:net';
import { fullGc } from './gc.js';

/** A small seeded PRNG (mulberry32): runs are reproducible from CONVERGE_FUZZ_SEED. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A number from an environment variable, or `fallback`. */
export function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

/** Connects a raw socket to 127.0.0.1:port. */
export function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.off('error', reject);
      s.on('error', () => undefined); // resets after the server closes us are expected
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Writes and waits for `drain` when the socket buffer is full (bounded client memory). */
export function write(s: net.Socket, data: Uint8Array): Promise<void> | undefined {
  if (s.write(data)) return undefined;
  return new Promise((r) => {
    const done = (): void => {
      s.off('drain', done);
      s.off('close', done);
      r();
    };
    s.once('drain', done);
    s.once('close', done);
  });
}

/** Resolves once the socket has closed. */
export function closed(s: net.Socket): Promise<void> {
  return new Promise((r) => (s.closed ? r() : s.once('close', () => r())));
}

/** heapUsed after settling (two turns of the event loop) and two full GCs. */
export async function settledHeap(): Promise<number> {
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 20));
    fullGc();
  }
  return process.memoryUsage().heapUsed;
}

export const MiB = 1024 * 1024;
