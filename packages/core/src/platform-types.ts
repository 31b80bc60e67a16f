/**
 * The platform seam of `@converge/core`: what differs between Node (`platform.node.ts`:
 * node:crypto, `Buffer`) and browsers (`platform.browser.ts`: WebCrypto's `getRandomValues`,
 * `TextEncoder`/`TextDecoder`, `@noble/ed25519`). The rest of core imports `#platform`, which
 * package.json `imports` resolves by the `browser` condition; both modules export exactly these
 * names (checked at compile time by `platform.browser.ts`). Not part of the public API.
 * @internal
 */

/** Writes a string as UTF-8 into a fixed buffer at `offset` (room for 3 bytes per UTF-16 unit is the caller's job); returns the bytes written. */
export interface Utf8Writer {
  utf8Write(s: string, offset: number): number;
}

/** A native Ed25519 implementation (node:crypto); browsers have none that is synchronous. */
export interface NativeEd25519 {
  /** A prepared signing key for a 32-byte seed (opaque; cached by `Identity`). */
  prepare(seed: Uint8Array): object;
  /** Raw 32-byte public key of a 32-byte seed. */
  publicKey(seed: Uint8Array): Uint8Array;
  /** 64-byte signature of `data`. */
  sign(data: Uint8Array, seed: Uint8Array, prepared?: object): Uint8Array;
  /** Whether `signature` (64 bytes) verifies over `data` under a 32-byte key; may throw on a bad point. */
  verify(signature: Uint8Array, data: Uint8Array, publicKey: Uint8Array): boolean;
}
