/**
 * Admission policies: who may join a pool. `admissionFromSpec` turns the plain-data
 * `PolicySpec` stored with a pool into behaviour (the coordination package's PoolManager takes
 * it as its resolver).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError, type Pool, type PolicySpec } from '@converge/core';
import { checkStringList } from './common.js';

/** Decides whether an agent may join a pool. */
export interface AdmissionPolicy {
  /**
   * Whether `agentId` may join `pool`. `context` is what the agent sent with its request
   * (e.g. `{ token }`); it is untrusted input. `'ask'` puts the join to the pool's governance
   * (the PoolManager opens an `admit` question the members vote on).
   */
  admit(agentId: string, context: Record<string, unknown> | undefined, pool: Pool): boolean | 'ask' | Promise<boolean | 'ask'>;
}

/** Asks the pool's members about every join (`'ask'`): the pool's governance decides. */
export class AskAdmission implements AdmissionPolicy {
  /** Always `'ask'`. */
  admit(): 'ask' {
    return 'ask';
  }
}

/** Admits every agent. */
export class OpenAdmission implements AdmissionPolicy {
  /** Always `true`. */
  admit(): boolean {
    return true;
  }
}

/** Admits only the listed agents (by fingerprint). */
export class WhitelistAdmission implements AdmissionPolicy {
  readonly #agents: ReadonlySet<string>;

  /** @param agents fingerprints of the admitted agents; an empty list admits nobody. */
  constructor(agents: Iterable<string>) {
    this.#agents = new Set(checkStringList('agents', [...agents]));
  }

  /** Whether `agentId` is on the list. */
  admit(agentId: string): boolean {
    return typeof agentId === 'string' && this.#agents.has(agentId);
  }

  /** The admitted agents (a copy). */
  get agents(): string[] {
    return [...this.#agents];
  }
}

/** Settings of `TokenAdmission`: the secret itself, or its SHA-256 digest. */
export type TokenAdmissionOptions = { token: string | Uint8Array } | { tokenSha256: string | Uint8Array };

/** Largest token accepted from a join request, in bytes (longer ones are refused unhashed). */
export const MAX_ADMISSION_TOKEN_BYTES = 4096;

function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function parseDigest(value: string | Uint8Array, key: string): Buffer {
  if (typeof value === 'string') {
    if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new ConfigError(`${key} must be 64 hex characters (SHA-256)`, { key });
    return Buffer.from(value, 'hex');
  }
  if (value instanceof Uint8Array && value.length === 32) return Buffer.from(value);
  throw new ConfigError(`${key} must be a SHA-256 digest: 64 hex characters or 32 bytes`, { key });
}

/**
 * Compares a presented secret with the SHA-256 digest of the expected one in constant time.
 * Both sides are 32-byte digests, so neither the content nor the length of the secret leaks
 * through timing (`crypto.timingSafeEqual` requires equal lengths; digests always are).
 */
export function secretMatchesDigest(presented: string | Uint8Array, expectedSha256: Uint8Array): boolean {
  if (expectedSha256.length !== 32) return false;
  return timingSafeEqual(sha256(presented), expectedSha256);
}

/**
 * Admits agents whose join context carries the right `token` (a string or bytes). Only the
 * SHA-256 digest of the secret is kept in memory; the comparison is constant-time.
 */
export class TokenAdmission implements AdmissionPolicy {
  readonly #digest: Buffer;

  /** @throws ConfigError when neither a non-empty token nor a valid digest is given. */
  constructor(options: TokenAdmissionOptions) {
    if (options && 'token' in options && options.token !== undefined) {
      const t = options.token;
      if (!((typeof t === 'string' || t instanceof Uint8Array) && t.length > 0)) {
        throw new ConfigError('token must be a non-empty string or byte array', { key: 'token' });
      }
      this.#digest = sha256(t);
    } else if (options && 'tokenSha256' in options && options.tokenSha256 !== undefined) {
      this.#digest = parseDigest(options.tokenSha256, 'tokenSha256');
    } else {
      throw new ConfigError('TokenAdmission needs token or tokenSha256', { key: 'token' });
    }
  }

  /** Whether `context.token` hashes to the expected digest. A missing or non-string token is refused. */
  admit(_agentId: string, context: Record<string, unknown> | undefined): boolean {
    const presented = context?.token;
    if (!(typeof presented === 'string' || presented instanceof Uint8Array)) return false;
    // Bounded so that a huge token cannot make us hash megabytes; refusing it reveals only
    // that it is longer than any sensible token.
    const size = typeof presented === 'string' ? Buffer.byteLength(presented) : presented.length;
    if (size === 0 || size > MAX_ADMISSION_TOKEN_BYTES) return false;
    return secretMatchesDigest(presented, this.#digest);
  }
}

/** Builds an admission policy from a spec the built-in types do not know. */
export type AdmissionFactory = (spec: PolicySpec) => AdmissionPolicy;

/** Options of `admissionFromSpec`. */
export interface AdmissionFromSpecOptions {
  /** Extra policy types by name; they take precedence over the built-in ones. */
  factories?: Readonly<Record<string, AdmissionFactory>>;
}

/**
 * Builds an admission policy from plain data:
 * - `{ type: 'open' }` → `OpenAdmission`
 * - `{ type: 'whitelist', agents: string[] }` → `WhitelistAdmission`
 * - `{ type: 'ask' }` → `AskAdmission` (the pool's governance decides each join)
 * - `{ type: 'token', tokenHash }` (hex SHA-256, also spelled `tokenSha256`) or
 *   `{ type: 'token', token }` → `TokenAdmission`. Prefer `tokenHash`: a spec is stored with
 *   its pool, and a stored plaintext token is a stored secret.
 *
 * Any spec may carry `minTrust`: the PoolManager (given a trust source) refuses a join below it
 * before this policy is asked. A missing spec means open admission. An unknown type throws `ConfigError` (never "open by
 * accident").
 */
export function admissionFromSpec(spec: PolicySpec | undefined, options: AdmissionFromSpecOptions = {}): AdmissionPolicy {
  if (spec === undefined) return new OpenAdmission();
  if (spec === null || typeof spec !== 'object' || typeof spec.type !== 'string') {
    throw new ConfigError('admission spec must be an object with a string type', { key: 'type' });
  }
  const custom = options.factories && Object.hasOwn(options.factories, spec.type) ? options.factories[spec.type] : undefined;
  if (custom) return custom(spec);
  switch (spec.type) {
    case 'open':
      return new OpenAdmission();
    case 'whitelist':
      return new WhitelistAdmission(checkStringList('agents', spec.agents));
    case 'ask':
      return new AskAdmission();
    case 'token': {
      const hash = spec.tokenHash ?? spec.tokenSha256;
      if (hash !== undefined) {
        if (typeof hash !== 'string' && !(hash instanceof Uint8Array)) throw new ConfigError('tokenHash must be hex or bytes', { key: 'tokenHash' });
        return new TokenAdmission({ tokenSha256: hash });
      }
      if (typeof spec.token === 'string' || spec.token instanceof Uint8Array) return new TokenAdmission({ token: spec.token });
      throw new ConfigError('token admission needs tokenHash or token', { key: 'tokenHash' });
    }
    default:
      throw new ConfigError(`unknown admission policy type ${JSON.stringify(spec.type)}`, { key: 'type' });
  }
}
