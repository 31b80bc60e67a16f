// Shared test helpers: the interop vectors (read in place), identities, vector messages,
// and throwaway TLS certificates made with the openssl CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { Identity, createMessage, createTopic, hexToBytes, signMessage, type Message } from '@converge/core';
import { VECTORS_PATH, describeWithVectors, itWithVectors, vectors, fromTyped } from '../../packages/core/test/vectors.js';

// The vectors and their typed-JSON reviver: one loader for every package's tests.
export { VECTORS_PATH, describeWithVectors, itWithVectors, vectors, fromTyped };

/** Vector identities by name (empty without the vectors file). */
export const identities = new Map<string, Identity>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (vectors?.identities ?? []).map((v: any) => [v.name, Identity.fromSecretKey(hexToBytes(v.seed))]),
);

/** Builds and signs a vector message from its `input` (sender already the signer's fingerprint). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function vectorMessage(input: any, signer: string): Message {
  const msg = createMessage({
    id: input.id,
    sender: input.sender,
    recipient: input.recipient,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    topics: input.topics.map((t: any) => createTopic(t.namespace, fromTyped(t.attributes), t.version)),
    payload: fromTyped(input.payload),
    taskId: input.task_id,
    timestamp: fromTyped(input.timestamp),
  });
  return signMessage(msg, identities.get(signer)!);
}

/** A vector message (from `messages[]`) by name, signed by its signer. */
export function namedVectorMessage(name: string): Message {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const v = vectors.messages.find((m: any) => m.name === name);
  if (!v) throw new Error(`no vector message ${name}`);
  return vectorMessage(v.input, v.signer);
}

/** Splits bytes at the given cut points (sorted, deduplicated, within range). */
export function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.byteLength, c))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.byteLength]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Polls `cond` (every few ms) until true; the test timeout bounds the wait. */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await delay(5);
}

/**
 * The clean-ups of a test file, run after every test, the last added first (registers the
 * `afterEach`: call it at the file's top level). Push a closer for each server or client made.
 */
export function cleanupAfterEach(): (() => Promise<unknown>)[] {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  return cleanup;
}

/** Starts `transport` and adds its stop to `cleanup` (from `cleanupAfterEach`); returns it, started. */
export async function started<T extends { start(): Promise<void>; stop(): Promise<void> }>(transport: T, cleanup: (() => Promise<unknown>)[]): Promise<T> {
  await transport.start();
  cleanup.push(() => transport.stop());
  return transport;
}

/** A raw TCP connection made by `rawConnection`. */
export interface RawConnection {
  socket: net.Socket;
  /** Resolves when the connection has closed (the server closing it is expected). */
  closed: Promise<void>;
  /** Whether it has closed yet. */
  isClosed(): boolean;
}

/**
 * Opens a raw TCP connection to 127.0.0.1:`port` (socket errors ignored) and waits until it is
 * connected; when `cleanup` is given, its destroy is added there.
 */
export async function rawConnection(port: number, cleanup?: (() => Promise<unknown>)[]): Promise<RawConnection> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  let done = false;
  const closed = new Promise<void>((r) =>
    socket.once('close', () => {
      done = true;
      r();
    }),
  );
  await new Promise((r) => socket.once('connect', r));
  cleanup?.push(async () => socket.destroy());
  return { socket, closed, isClosed: () => done };
}

/** PEM material for TLS tests: a CA, a server certificate (127.0.0.1, localhost) and a client certificate. */
export interface TestPki {
  ca: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** A second CA (untrusted by the first) with its own client certificate. */
  otherCa: string;
  otherClientKey: string;
  otherClientCert: string;
}

/** Whether the openssl CLI is available. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Makes a throwaway PKI with the openssl CLI (EC P-256 keys, valid one day). */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'converge-pki-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  // `{ key: 'ca.key', days: '1' }` -> `-key ca.key -days 1` (openssl takes its options in any order).
  const flags = (options: Record<string, string>): string[] => Object.entries(options).flatMap(([name, value]) => [`-${name}`, value]);
  const key = (name: string): void => run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  try {
    for (const ca of ['ca', 'ca2']) {
      key(ca);
      run(
        'req',
        '-x509',
        '-new',
        ...flags({ key: `${ca}.key`, subj: `/CN=Converge test ${ca}`, days: '1', out: `${ca}.crt` }),
        ...['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign'].flatMap((ext) => ['-addext', ext]),
      );
    }
    const leaf = (name: string, ca: string, cn: string, ext: string): void => {
      key(name);
      run('req', '-new', ...flags({ key: `${name}.key`, subj: `/CN=${cn}`, out: `${name}.csr` }));
      execFileSync('sh', ['-c', `printf '%s\\n' "${ext}" > ${name}.ext`], { cwd: dir });
      run(
        'x509',
        '-req',
        '-CAcreateserial',
        ...flags({ in: `${name}.csr`, CA: `${ca}.crt`, CAkey: `${ca}.key`, days: '1', out: `${name}.crt`, extfile: `${name}.ext` }),
      );
    };
    leaf('server', 'ca', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
    leaf('client', 'ca', 'client', 'extendedKeyUsage=clientAuth');
    leaf('other', 'ca2', 'intruder', 'extendedKeyUsage=clientAuth');
    const r = (f: string): string => readFileSync(join(dir, f), 'utf8');
    return {
      ca: r('ca.crt'),
      serverKey: r('server.key'),
      serverCert: r('server.crt'),
      clientKey: r('client.key'),
      clientCert: r('client.crt'),
      otherCa: r('ca2.crt'),
      otherClientKey: r('other.key'),
      otherClientCert: r('other.crt'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
