import { randomBytes } from '#platform';
import { KeyError } from './errors.js';
import { IDENTITY_BRAND, hasBrand } from './brand.js';
import { bytesToHex, hexToBytes, bytesEqual } from './bytes.js';
import { DEFAULT_ED25519_BACKEND, ed25519Sign, ed25519Verify, fingerprintOf, prepareSigningKey, publicKeyOf, type Ed25519Backend } from './ed25519.js';

/** Options for creating an identity. */
export interface IdentityOptions {
  /** Ed25519 implementation: `node` (node:crypto; the default under Node) or `noble` (portable; the default and only one in the browser build). */
  backend?: Ed25519Backend;
}

/** JSON form of an identity (hex). The secret key appears only if the identity has one. */
export interface IdentityJSON {
  publicKey: string;
  secretKey?: string;
}

/**
 * An Ed25519 key pair (or a public key alone). The `fingerprint` (hex SHA-256 of the public
 * key) is the agent's id on the wire. Secret keys never appear in logs: `toString`,
 * `util.inspect` and `JSON.stringify` without `toJSON({ includeSecret: true })` omit them.
 */
export class Identity {
  /** Brand (see `isIdentity`). */
  readonly [IDENTITY_BRAND] = true as const;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** Lowercase hex SHA-256 of the public key. */
  readonly fingerprint: string;
  /** The Ed25519 implementation in use. */
  readonly backend: Ed25519Backend;
  readonly #seed: Uint8Array | undefined;
  #prepared: object | undefined;

  private constructor(publicKey: Uint8Array, seed: Uint8Array | undefined, backend: Ed25519Backend) {
    this.publicKey = publicKey;
    this.#seed = seed;
    this.backend = backend;
    this.fingerprint = fingerprintOf(publicKey);
  }

  /** A new random identity. */
  static generate(options: IdentityOptions = {}): Identity {
    return Identity.fromSecretKey(randomBytes(32), options);
  }

  /**
   * An identity from its secret key: the 32-byte seed (as the reference stores it) or the
   * 64-byte seed‖public key (NaCl layout; the public half must match the seed).
   */
  static fromSecretKey(secretKey: Uint8Array, options: IdentityOptions = {}): Identity {
    if (!(secretKey instanceof Uint8Array)) throw new KeyError('secret key must be a Uint8Array');
    if (secretKey.byteLength !== 32 && secretKey.byteLength !== 64) {
      throw new KeyError(`an Ed25519 secret key is 32 bytes (seed) or 64 bytes (seed and public key), got ${secretKey.byteLength}`);
    }
    const backend = options.backend ?? DEFAULT_ED25519_BACKEND;
    const seed = new Uint8Array(secretKey.subarray(0, 32));
    const publicKey = publicKeyOf(seed, backend);
    if (secretKey.byteLength === 64 && !bytesEqual(publicKey, secretKey.subarray(32))) {
      throw new KeyError('the public half of the 64-byte secret key does not match its seed');
    }
    return new Identity(publicKey, seed, backend);
  }

  /** A verify-only identity from a raw 32-byte public key. */
  static fromPublicKey(publicKey: Uint8Array, options: IdentityOptions = {}): Identity {
    if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== 32) {
      throw new KeyError(`an Ed25519 public key is 32 bytes, got ${publicKey?.byteLength}`);
    }
    return new Identity(new Uint8Array(publicKey), undefined, options.backend ?? DEFAULT_ED25519_BACKEND);
  }

  /** An identity from its JSON form. */
  static fromJSON(json: IdentityJSON, options: IdentityOptions = {}): Identity {
    if (json.secretKey) {
      const id = Identity.fromSecretKey(hexToBytes(json.secretKey), options);
      if (json.publicKey && id.fingerprint !== fingerprintOf(hexToBytes(json.publicKey))) {
        throw new KeyError('publicKey does not match secretKey');
      }
      return id;
    }
    return Identity.fromPublicKey(hexToBytes(json.publicKey), options);
  }

  /** The 32-byte seed, if this identity can sign. Handle with care: never log it. */
  get secretKey(): Uint8Array | undefined {
    return this.#seed ? new Uint8Array(this.#seed) : undefined;
  }

  /** Whether this identity holds a secret key. */
  get canSign(): boolean {
    return this.#seed !== undefined;
  }

  /** Ed25519 signature (64 bytes) of `data`. Throws `KeyError` for a verify-only identity. */
  sign(data: Uint8Array): Uint8Array {
    if (!this.#seed) throw new KeyError(`identity ${this.fingerprint.slice(0, 12)} has no secret key`);
    if (this.backend === 'node') this.#prepared ??= prepareSigningKey(this.#seed, 'node');
    return ed25519Sign(data, this.#seed, this.backend, this.#prepared);
  }

  /** Whether `signature` is this identity's signature of `data` (false for malformed input). */
  verify(signature: Uint8Array, data: Uint8Array): boolean {
    return ed25519Verify(signature, data, this.publicKey, this.backend);
  }

  /** Hex JSON form; the secret key is included only when asked for. */
  toJSON(options: { includeSecret?: boolean } = {}): IdentityJSON {
    const out: IdentityJSON = { publicKey: bytesToHex(this.publicKey) };
    if (options.includeSecret && this.#seed) out.secretKey = bytesToHex(this.#seed);
    return out;
  }

  /** A short, key-free description. */
  toString(): string {
    return `Identity(${this.fingerprint.slice(0, 16)})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * Whether `value` is an `Identity`, from any copy of core (it carries the brand
 * `Symbol.for('@converge/identity')`): the cross-copy form of `instanceof Identity`.
 */
export function isIdentity(value: unknown): value is Identity {
  return hasBrand(value, IDENTITY_BRAND);
}
