import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AbortError, NotStartedError, QueueFullError, TransportError, ValidationError, signingBytes, type Message, requireInt } from '@converge/core';
import { VERIFY_WORKER_SOURCE } from './verify-worker.js';

/** Default most batches in flight across a `VerifierPool`'s workers. */
export const DEFAULT_POOL_MAX_PENDING = 1024;

/** Options of `VerifierPool`. */
export interface VerifierPoolOptions {
  /** Worker threads (default `os.availableParallelism()`). */
  size?: number;
  /** Most batches in flight at once (default 1,024); beyond that `verifyBatch` throws `QueueFullError`. */
  maxPending?: number;
}

interface Pending {
  resolve(ok: Uint8Array): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * Ed25519 verification on worker threads, so a receiver can check signatures on every core.
 * The main thread computes each message's signed bytes (`signingBytes`, which needs the
 * message's decoded form that a receiver has anyway) and ships bytes, signature and key to
 * the workers in one transferred buffer per batch; workers answer with booleans. Replay and
 * skew checks stay on the main thread (`MessageVerifier`). `stop()` terminates the workers.
 */
export class VerifierPool {
  /** Number of worker threads. */
  readonly size: number;
  /** Most batches in flight. */
  readonly maxPending: number;
  #slots: Slot[] = [];
  #nextId = 1;
  #inFlight = 0;
  #running = false;

  constructor(options: VerifierPoolOptions = {}) {
    this.size = options.size ?? availableParallelism();
    this.maxPending = options.maxPending ?? DEFAULT_POOL_MAX_PENDING;
    requireInt(this.size, 'pool size', { error: 'validation' });
    requireInt(this.maxPending, 'maxPending', { error: 'validation' });
  }

  /** Whether the workers are running. */
  get started(): boolean {
    return this.#running;
  }

  /** Starts the worker threads. Idempotent. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    for (let i = 0; i < this.size; i++) this.#slots.push(this.#spawn());
  }

  /** Terminates the workers; batches in flight reject with `NotStartedError`. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    const slots = this.#slots;
    this.#slots = [];
    for (const s of slots) this.#failAll(s, new NotStartedError('verifier pool stopped'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /**
   * Whether each message carries a valid signature by the matching key (`keys[i]`, raw 32
   * bytes). Splits the batch across the workers. Rejects with `NotStartedError` before
   * `start()`, `QueueFullError` when `maxPending` batches are in flight, `AbortError` on abort.
   */
  async verifyBatch(messages: readonly Message[], keys: readonly Uint8Array[], options: { signal?: AbortSignal } = {}): Promise<boolean[]> {
    if (!this.#running) throw new NotStartedError('verifier pool is not started');
    if (messages.length !== keys.length) throw new ValidationError('verifyBatch needs one key per message');
    if (messages.length === 0) return [];
    const parts = Math.min(this.#slots.length, messages.length);
    if (this.#inFlight + parts > this.maxPending) throw new QueueFullError(`verifier pool has ${this.#inFlight} batches in flight`);
    const chunk = Math.ceil(messages.length / parts);
    const jobs: Promise<Uint8Array>[] = [];
    const failed = new Set<number>();
    for (let start = 0; start < messages.length; start += chunk) {
      const end = Math.min(messages.length, start + chunk);
      jobs.push(this.#dispatch(pack(messages, keys, start, end, failed), end - start, options.signal));
    }
    const results = await Promise.all(jobs);
    const out: boolean[] = [];
    for (const r of results) for (let i = 0; i < r.length; i++) out.push(r[i] === 1);
    // Items that could not be packed (wrong key or signature length, unencodable message)
    // were sent zero-filled; they are false whatever the worker said.
    for (let i = 0; i < messages.length; i++) if (failed.has(i) || !packable(messages[i]!, keys[i]!)) out[i] = false;
    return out;
  }

  #dispatch(buf: ArrayBuffer, count: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (signal?.aborted) return Promise.reject(new AbortError('verification aborted', { cause: signal.reason }));
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.#nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = (): void => {
        if (slot.pending.delete(id)) this.#settled(slot);
        reject(new AbortError('verification aborted', { cause: signal!.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      slot.pending.set(id, {
        resolve: (ok) => {
          done();
          resolve(ok);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      });
      this.#inFlight++;
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage({ id, buf, count }, [buf]);
    });
  }

  #settled(slot: Slot): void {
    this.#inFlight--;
    // An idle worker must not keep the process alive; a busy one must, or a caller awaiting
    // its answer could see the process exit under it.
    if (slot.pending.size === 0) slot.worker.unref();
  }

  #spawn(): Slot {
    const worker = new Worker(VERIFY_WORKER_SOURCE, { eval: true });
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (msg: { id: number; ok: Uint8Array }) => {
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      this.#settled(slot);
      p.resolve(msg.ok);
    });
    const fail = (err: unknown): void => {
      this.#failAll(slot, new TransportError('verifier worker failed', { cause: err, code: 'ERR_VERIFIER_WORKER' }));
      const i = this.#slots.indexOf(slot);
      if (i >= 0 && this.#running) this.#slots[i] = this.#spawn();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.#running && this.#slots.includes(slot)) fail(new Error(`worker exited with code ${code}`));
    });
    return slot;
  }

  #failAll(slot: Slot, err: unknown): void {
    const pending = [...slot.pending.values()];
    this.#inFlight -= pending.length;
    slot.pending.clear();
    for (const p of pending) p.reject(err);
  }
}

const EMPTY = new Uint8Array(0);

function packable(msg: Message, key: Uint8Array): boolean {
  return key instanceof Uint8Array && key.byteLength === 32 && msg.signature instanceof Uint8Array && msg.signature.byteLength === 64;
}

// One transferable buffer per batch: [u32 BE length][32 key][64 signature][signed bytes]...
function pack(messages: readonly Message[], keys: readonly Uint8Array[], start: number, end: number, failed: Set<number>): ArrayBuffer {
  const data: Uint8Array[] = [];
  let total = 0;
  for (let i = start; i < end; i++) {
    let d: Uint8Array;
    try {
      d = packable(messages[i]!, keys[i]!) ? signingBytes(messages[i]!) : EMPTY;
    } catch {
      d = EMPTY;
      failed.add(i);
    }
    data.push(d);
    total += 100 + d.byteLength;
  }
  const buf = new ArrayBuffer(total);
  const bytes = new Uint8Array(buf);
  const view = new DataView(buf);
  let p = 0;
  for (let i = start; i < end; i++) {
    const d = data[i - start]!;
    const key = keys[i]!;
    const sig = messages[i]!.signature;
    view.setUint32(p, d.byteLength);
    if (d !== EMPTY) {
      bytes.set(key, p + 4);
      bytes.set(sig, p + 36);
    }
    bytes.set(d, p + 100);
    p += 100 + d.byteLength;
  }
  return buf;
}
