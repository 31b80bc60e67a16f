/**
 * The agent card of a pool, and its signature: a JWS (flattened JSON serialisation, EdDSA)
 * over the RFC 8785 (JCS) canonical form of the card, as the A2A v1 spec §8.4 has it, made
 * with `jose` and the pool owner's Ed25519 key. The key is published as a JWK in the protected
 * header and in a JWKS document (`jku`); its `kid` is the Converge fingerprint of the key (hex
 * SHA-256 of the raw public key), so the trust model can gate on it.
 */
import { flattenedVerify, importJWK, decodeProtectedHeader, type JWK } from 'jose';
import { canonicalizeAgentCard, generateAgentCardSignature, type AgentCard, type AgentSkill, type SecurityRequirement, type SecurityScheme } from '@a2a-js/sdk';
import { fingerprintOf, topicToString, type Capability, type Identity, type Pool } from '@converge/core';
import { AgentCardSignatureError } from './errors.js';

/** Where the card is served (the A2A well-known path). */
export const AGENT_CARD_PATH = '/.well-known/agent-card.json';
/** Where the signing keys are served (a JWKS document). */
export const JWKS_PATH = '/.well-known/jwks.json';
/** Path of the JSON-RPC binding. */
export const JSONRPC_PATH = '/a2a/jsonrpc';
/** Path of the HTTP+JSON (REST) binding. */
export const REST_PATH = '/a2a/rest';
/** Name of the API-key header the card declares. */
export const DEFAULT_API_KEY_HEADER = 'x-api-key';

/** The JWS algorithm of card signatures (Ed25519). */
export const CARD_SIGNATURE_ALG = 'EdDSA';

/** What a card is built from. */
export interface PoolCardOptions {
  /** The pool served. Its topics become skills. */
  pool: Pool;
  /** Base URL the server is reached at, without a trailing slash (e.g. `http://127.0.0.1:8080`). */
  baseUrl: string;
  /** What the pool's workers can do: each becomes a skill (strings are capability names). */
  capabilities?: readonly (Capability | string)[];
  /** Card name (default `Converge pool <id>`). */
  name?: string;
  /** Card description. */
  description?: string;
  /** The agent's version (default `1.0.0`). */
  version?: string;
  /** Declared security schemes: `bearer` (HTTP Bearer) and/or `apiKey` (header). Either satisfies. */
  security?: { bearer?: boolean; apiKey?: boolean; apiKeyHeader?: string };
  /** Whether push notifications are offered (default true). */
  pushNotifications?: boolean;
}

/** The skills of a pool: one per capability, one per topic. */
export function poolSkills(pool: Pool, capabilities: readonly (Capability | string)[] = []): AgentSkill[] {
  const skills: AgentSkill[] = [];
  const modes = ['text/plain', 'application/json'];
  for (const c of capabilities) {
    const cap = typeof c === 'string' ? { name: c, description: '' } : c;
    skills.push({
      id: cap.name,
      name: cap.name,
      description: cap.description || `capability ${cap.name} of pool ${pool.id}`,
      tags: ['capability'],
      examples: [],
      inputModes: modes,
      outputModes: modes,
      securityRequirements: [],
    });
  }
  for (const t of pool.topics) {
    const s = topicToString(t);
    skills.push({
      id: `topic:${s}`,
      name: t.namespace,
      description: `topic ${s} of pool ${pool.id}`,
      tags: ['topic', t.namespace],
      examples: [],
      inputModes: modes,
      outputModes: modes,
      securityRequirements: [],
    });
  }
  return skills;
}

/** The (unsigned) agent card of a pool. */
export function buildPoolCard(options: PoolCardOptions): AgentCard {
  const { pool, baseUrl } = options;
  const securitySchemes: Record<string, SecurityScheme> = {};
  const securityRequirements: SecurityRequirement[] = [];
  if (options.security?.bearer) {
    securitySchemes.bearer = { scheme: { $case: 'httpAuthSecurityScheme', value: { description: 'Bearer token', scheme: 'Bearer', bearerFormat: '' } } };
    securityRequirements.push({ schemes: { bearer: { list: [] } } });
  }
  if (options.security?.apiKey) {
    const name = options.security.apiKeyHeader ?? DEFAULT_API_KEY_HEADER;
    securitySchemes.apiKey = { scheme: { $case: 'apiKeySecurityScheme', value: { description: 'API key', location: 'header', name } } };
    securityRequirements.push({ schemes: { apiKey: { list: [] } } });
  }
  return {
    name: options.name ?? `Converge pool ${pool.id}`,
    description: options.description ?? `Tasks submitted here are queued in the Converge pool ${pool.id} and run by its members (leased, exactly once).`,
    supportedInterfaces: [
      { url: `${baseUrl}${JSONRPC_PATH}`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' },
      { url: `${baseUrl}${REST_PATH}`, protocolBinding: 'HTTP+JSON', tenant: '', protocolVersion: '1.0' },
    ],
    provider: { organization: 'Converge', url: baseUrl },
    version: options.version ?? '1.0.0',
    capabilities: { streaming: true, pushNotifications: options.pushNotifications ?? true, extensions: [], extendedAgentCard: false },
    securitySchemes,
    securityRequirements,
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['text/plain', 'application/json'],
    skills: poolSkills(pool, options.capabilities),
    signatures: [],
  };
}

/** The public JWK of an Ed25519 identity (`kid` = its fingerprint). */
export function publicJwkOf(identity: Identity): JWK {
  return {
    kty: 'OKP',
    crv: 'Ed25519',
    x: Buffer.from(identity.publicKey).toString('base64url'),
    kid: identity.fingerprint,
    alg: CARD_SIGNATURE_ALG,
    use: 'sig',
  };
}

/** The JWKS document publishing `identity`'s public key. */
export function jwksOf(identity: Identity): { keys: JWK[] } {
  return { keys: [publicJwkOf(identity)] };
}

/**
 * Signs `card` with `identity` (which must hold its secret key): the card comes back with one
 * signature whose protected header carries `alg: EdDSA`, `typ: JOSE`, `kid` (the fingerprint),
 * `jku` (the JWKS URL) and the public `jwk`. Uses the SDK's signer, hence its JCS canonical form.
 */
export async function signAgentCard(card: AgentCard, identity: Identity, jku: string): Promise<AgentCard> {
  const seed = identity.secretKey;
  if (!seed) throw new AgentCardSignatureError(`identity ${identity.fingerprint.slice(0, 12)} cannot sign: no secret key`);
  const pub = publicJwkOf(identity);
  const { kid: _kid, alg: _alg, use: _use, ...bareJwk } = pub;
  const privateJwk: JWK = { ...bareJwk, d: Buffer.from(seed).toString('base64url') };
  const signer = generateAgentCardSignature(privateJwk, { alg: CARD_SIGNATURE_ALG, typ: 'JOSE', kid: identity.fingerprint, jku, jwk: bareJwk });
  return signer({ ...card, signatures: [] });
}

/** What `verifyAgentCard` established. */
export interface VerifiedCard {
  /** Fingerprint (hex SHA-256 of the raw Ed25519 public key) of the key that signed the card. */
  keyFingerprint: string;
  /** The raw 32-byte public key. */
  publicKey: Uint8Array;
}

/** Looks up the signing key of a card by `kid` and `jku` (e.g. fetches the JWKS). */
export type CardKeyResolver = (kid: string, jku: string | undefined) => Promise<JWK | undefined>;

/**
 * Verifies the card's signatures: at least one must be an EdDSA JWS over the card's canonical
 * form, by an Ed25519 key. The key comes from `resolveKey` (the JWKS, by `kid`); a key also
 * embedded in the protected header must be the same key. The result names the key by its
 * fingerprint (Converge's agent id for a key), whatever the `kid` is. Throws
 * `AgentCardSignatureError` when none verifies (an unsigned card included).
 */
export async function verifyAgentCard(card: AgentCard, resolveKey: CardKeyResolver): Promise<VerifiedCard> {
  if (!card.signatures?.length) throw new AgentCardSignatureError('the agent card is not signed');
  const payload = Buffer.from(canonicalizeAgentCard(card), 'utf8').toString('base64url');
  const reasons: string[] = [];
  for (const sig of card.signatures) {
    try {
      const header = decodeProtectedHeader(sig);
      if (header.alg !== CARD_SIGNATURE_ALG && header.alg !== 'Ed25519') throw new Error(`algorithm ${String(header.alg)} is not EdDSA`);
      if (typeof header.kid !== 'string') throw new Error('no kid');
      const jwk = await resolveKey(header.kid, header.jku);
      if (!jwk) throw new Error(`no key ${header.kid.slice(0, 16)} published`);
      if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('the published key is not an Ed25519 JWK');
      const publicKey = new Uint8Array(Buffer.from(jwk.x, 'base64url'));
      if (publicKey.byteLength !== 32) throw new Error('the published key is not 32 bytes');
      // The identity that trust is about is the key itself (its fingerprint), whatever the kid.
      const keyFingerprint = fingerprintOf(publicKey);
      if (header.jwk && header.jwk.x !== jwk.x) throw new Error('the key in the header is not the published key');
      const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, CARD_SIGNATURE_ALG);
      await flattenedVerify({ payload, protected: sig.protected, signature: sig.signature, ...(sig.header ? { header: sig.header } : {}) }, key, {
        algorithms: [CARD_SIGNATURE_ALG, 'Ed25519'],
      });
      return { keyFingerprint, publicKey };
    } catch (err) {
      reasons.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new AgentCardSignatureError(`no signature of the agent card verifies: ${reasons.join('; ')}`);
}
