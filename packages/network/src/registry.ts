import { Identity, KeyError, hasBrand, isIdentity, LimitExceededError, fingerprintOf, requireInt } from '@converge/core';

/** Brand of an `IdentityRegistry` (`isIdentityRegistry` checks it; the same symbol in every copy of the package). */
export const IDENTITY_REGISTRY_BRAND: unique symbol = Symbol.for('@converge/identity-registry') as never;

/** Whether `value` is an `IdentityRegistry` from any copy of the package (the cross-copy form of `instanceof`). */
export function isIdentityRegistry(value: unknown): value is IdentityRegistry {
  return hasBrand(value, IDENTITY_REGISTRY_BRAND);
}

/** Default most entries an `IdentityRegistry` holds. */
export const DEFAULT_REGISTRY_MAX_ENTRIES = 100_000;

/** Options of `IdentityRegistry`. */
export interface IdentityRegistryOptions {
  /** Most keys held (default 100,000); registering more throws `LimitExceededError`. */
  maxEntries?: number;
}

function rawKey(key: Uint8Array | Identity): Uint8Array {
  const k = isIdentity(key) ? key.publicKey : key;
  if (!(k instanceof Uint8Array) || k.byteLength !== 32) {
    throw new KeyError(`an Ed25519 public key is 32 bytes, got ${(k as Uint8Array | undefined)?.byteLength}`);
  }
  return new Uint8Array(k);
}

/**
 * Known agents' public keys, by fingerprint (lowercase hex SHA-256 of the key). A key is only
 * ever stored under its own fingerprint, so a registry lookup can be trusted to name the
 * agent that holds the key. Bounded by `maxEntries`.
 */
export class IdentityRegistry {
  /** Brand (see `isIdentityRegistry`). */
  readonly [IDENTITY_REGISTRY_BRAND] = true as const;
  /** Most keys held. */
  readonly maxEntries: number;
  readonly #keys = new Map<string, Uint8Array>();

  constructor(options: IdentityRegistryOptions = {}) {
    const max = options.maxEntries ?? DEFAULT_REGISTRY_MAX_ENTRIES;
    requireInt(max, 'maxEntries', { error: 'validation' });
    this.maxEntries = max;
  }

  /** Registers a public key (raw 32 bytes or an `Identity`); returns its fingerprint. */
  register(key: Uint8Array | Identity): string {
    const k = rawKey(key);
    const fp = fingerprintOf(k);
    this.#set(fp, k);
    return fp;
  }

  /**
   * Registers `key` under `fingerprint`, refusing (`KeyError`) a key whose fingerprint is
   * different: a peer cannot claim another agent's id.
   */
  registerAs(fingerprint: string, key: Uint8Array | Identity): void {
    const k = rawKey(key);
    if (typeof fingerprint !== 'string' || fingerprintOf(k) !== fingerprint.toLowerCase()) {
      throw new KeyError(`the key's fingerprint does not match ${String(fingerprint).slice(0, 16)}`);
    }
    this.#set(fingerprint.toLowerCase(), k);
  }

  /** The public key registered for `fingerprint`, if any (a copy). */
  get(fingerprint: string): Uint8Array | undefined {
    const k = this.#keys.get(fingerprint);
    return k ? new Uint8Array(k) : undefined;
  }

  /** @internal The stored key itself, for the verifier's hot path (never mutated there). */
  peek(fingerprint: string): Uint8Array | undefined {
    return this.#keys.get(fingerprint);
  }

  /** Whether `fingerprint` is registered. */
  has(fingerprint: string): boolean {
    return this.#keys.has(fingerprint);
  }

  /** Forgets `fingerprint`; returns whether it was registered. */
  remove(fingerprint: string): boolean {
    return this.#keys.delete(fingerprint);
  }

  /** Number of registered keys. */
  get size(): number {
    return this.#keys.size;
  }

  /** Registered fingerprints. */
  fingerprints(): string[] {
    return [...this.#keys.keys()];
  }

  #set(fp: string, key: Uint8Array): void {
    if (!this.#keys.has(fp) && this.#keys.size >= this.maxEntries) {
      throw new LimitExceededError(`identity registry is full (${this.maxEntries} keys)`);
    }
    this.#keys.set(fp, key);
  }
}
