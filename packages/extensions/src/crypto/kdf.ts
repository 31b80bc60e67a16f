// Key derivation: PBKDF2-HMAC-SHA256 as the reference's `derive_key`, plus HKDF and scrypt
// (additions of ours), and a bounded secure random source. The async forms run on libuv's
// thread pool so the event loop keeps serving while a slow KDF runs.
import { hkdfSync, pbkdf2, pbkdf2Sync, randomBytes, scrypt as nodeScrypt } from 'node:crypto';
import { AbortError, CryptoError, ValidationError, requireInt, throwIfAborted } from '@converge/core';

/** Default PBKDF2 output length in bytes (the reference's). */
export const DEFAULT_KEY_LENGTH = 32;
/** Default PBKDF2 iteration count (the reference's `derive_key`). */
export const DEFAULT_PBKDF2_ITERATIONS = 100_000;
/** Largest PBKDF2 iteration count accepted (bounds the CPU one call can take). */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Largest derived key, in bytes, accepted by `deriveKey`, `scrypt` and `secureRandomBytes`. */
export const MAX_DERIVED_BYTES = 1024;
/** Largest output of `secureRandomBytes` (1 MiB). */
export const MAX_RANDOM_BYTES = 1024 * 1024;
/** Default scrypt cost parameter N (2^15: 32 MiB of memory with r = 8). */
export const DEFAULT_SCRYPT_N = 32_768;
/** Default scrypt block size r. */
export const DEFAULT_SCRYPT_R = 8;
/** Default scrypt parallelism p. */
export const DEFAULT_SCRYPT_P = 1;
/** Most memory (bytes) one scrypt call may use (256 MiB); larger N·r is refused. */
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

/** Options of {@link deriveKey} / {@link deriveKeySync}. */
export interface DeriveKeyOptions {
  /** Output length in bytes (default 32, at most {@link MAX_DERIVED_BYTES}). */
  length?: number;
  /** PBKDF2 iterations (default 100 000, at most {@link MAX_PBKDF2_ITERATIONS}). */
  iterations?: number;
  /** Stops waiting (the thread-pool job itself cannot be interrupted). Async form only. */
  signal?: AbortSignal;
}

/** Options of {@link scrypt}. */
export interface ScryptOptions {
  /** CPU/memory cost, a power of two > 1 (default 32 768). */
  N?: number;
  /** Block size (default 8). */
  r?: number;
  /** Parallelism (default 1). */
  p?: number;
  /** Output length in bytes (default 32). */
  length?: number;
  /** Stops waiting (the thread-pool job itself cannot be interrupted). */
  signal?: AbortSignal;
}

const enc = new TextEncoder();

function bytesOf(v: string | Uint8Array, what: string): Uint8Array {
  if (typeof v === 'string') return enc.encode(v);
  if (v instanceof Uint8Array) return v;
  throw new ValidationError(`${what} must be a string (UTF-8) or a Uint8Array`);
}

function pbkdf2Params(password: string | Uint8Array, salt: string | Uint8Array, options: DeriveKeyOptions) {
  return {
    pw: bytesOf(password, 'password'),
    salt: bytesOf(salt, 'salt'),
    length: requireInt(options.length ?? DEFAULT_KEY_LENGTH, 'length', { min: 1, max: MAX_DERIVED_BYTES, error: 'validation' }),
    iterations: requireInt(options.iterations ?? DEFAULT_PBKDF2_ITERATIONS, 'iterations', { min: 1, max: MAX_PBKDF2_ITERATIONS, error: 'validation' }),
  };
}

// Waits for a thread-pool callback, giving up (not cancelling) when the signal fires.
function pooled(signal: AbortSignal | undefined, run: (done: (err: Error | null, key?: Buffer) => void) => void): Promise<Uint8Array> {
  throwIfAborted(signal);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError('key derivation aborted', { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    run((err, key) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(new CryptoError('key derivation failed', { cause: err }));
      else resolve(new Uint8Array(key!.buffer, key!.byteOffset, key!.byteLength));
    });
  });
}

/**
 * PBKDF2-HMAC-SHA256, as the reference's `derive_key(password, salt, length=32,
 * iterations=100000)` (a string password is UTF-8). Runs on the thread pool; rejects with
 * `ValidationError` for out-of-range parameters and `AbortError` when `signal` fires.
 */
export async function deriveKey(password: string | Uint8Array, salt: string | Uint8Array, options: DeriveKeyOptions = {}): Promise<Uint8Array> {
  const p = pbkdf2Params(password, salt, options);
  return pooled(options.signal, (done) => pbkdf2(p.pw, p.salt, p.iterations, p.length, 'sha256', done));
}

/** Blocking form of {@link deriveKey}: same result, but holds the event loop while it runs. */
export function deriveKeySync(password: string | Uint8Array, salt: string | Uint8Array, options: Omit<DeriveKeyOptions, 'signal'> = {}): Uint8Array {
  const p = pbkdf2Params(password, salt, options);
  const key = pbkdf2Sync(p.pw, p.salt, p.iterations, p.length, 'sha256');
  return new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
}

/**
 * HKDF-SHA256 (RFC 5869): `length` bytes (1..8160) from input key material, a salt and a
 * context `info`. Fast (no stretching): for high-entropy input only, never for passwords.
 */
export function hkdf(ikm: Uint8Array, salt: string | Uint8Array, info: string | Uint8Array, length: number = DEFAULT_KEY_LENGTH): Uint8Array {
  if (!(ikm instanceof Uint8Array)) throw new ValidationError('ikm must be a Uint8Array');
  requireInt(length, 'length', { min: 1, max: 255 * 32, error: 'validation' });
  const infoBytes = bytesOf(info, 'info');
  if (infoBytes.byteLength > 1024) throw new ValidationError('info must be at most 1024 bytes');
  return new Uint8Array(hkdfSync('sha256', ikm, bytesOf(salt, 'salt'), infoBytes, length));
}

/**
 * scrypt (RFC 7914) on the thread pool. Defaults N = 32 768, r = 8, p = 1, length 32;
 * memory use 128·N·r·p bytes may not exceed {@link MAX_SCRYPT_MEMORY}.
 */
export async function scrypt(password: string | Uint8Array, salt: string | Uint8Array, options: ScryptOptions = {}): Promise<Uint8Array> {
  const N = requireInt(options.N ?? DEFAULT_SCRYPT_N, 'N', { min: 2, max: 2 ** 30, error: 'validation' });
  if ((N & (N - 1)) !== 0) throw new ValidationError(`N must be a power of two, got ${N}`);
  const r = requireInt(options.r ?? DEFAULT_SCRYPT_R, 'r', { min: 1, max: 1024, error: 'validation' });
  const p = requireInt(options.p ?? DEFAULT_SCRYPT_P, 'p', { min: 1, max: 1024, error: 'validation' });
  const need = 128 * N * r * p;
  if (need > MAX_SCRYPT_MEMORY) throw new ValidationError(`scrypt parameters need ${need} bytes, over the limit of ${MAX_SCRYPT_MEMORY}`);
  const a = {
    pw: bytesOf(password, 'password'),
    salt: bytesOf(salt, 'salt'),
    N,
    r,
    p,
    length: requireInt(options.length ?? DEFAULT_KEY_LENGTH, 'length', { min: 1, max: MAX_DERIVED_BYTES, error: 'validation' }),
    // Node counts a little more than 128·N·r; leave headroom above the bound we enforce.
    maxmem: need + 16 * 1024 * 1024,
  };
  return pooled(options.signal, (done) => nodeScrypt(a.pw, a.salt, a.length, { N: a.N, r: a.r, p: a.p, maxmem: a.maxmem }, done));
}

/** `n` cryptographically secure random bytes (0..{@link MAX_RANDOM_BYTES}). */
export function secureRandomBytes(n: number): Uint8Array {
  requireInt(n, 'n', { min: 0, max: MAX_RANDOM_BYTES, error: 'validation' });
  const b = randomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
