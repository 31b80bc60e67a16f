import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import { ed25519Verify, fingerprintOf, type Identity } from '@converge/core';
import type { Logger, MetricCounter, Metrics } from '@converge/core';
import type { IdentityRegistry } from '@converge/network';
import {
  DEFAULT_WS_AUTH_TIMEOUT_MS,
  WS_AUTH_CHALLENGE_BYTES,
  WS_AUTH_CHALLENGE_HEADER,
  WS_AUTH_CLOSE_CODE,
  WS_AUTH_PROTOCOL,
  WS_PLAIN_PROTOCOL,
  authProofBytes,
  authSignedBytes,
  encodeChallengeMessage,
} from './ws-auth-proof.js';

export {
  DEFAULT_WS_AUTH_TIMEOUT_MS,
  WS_AUTH_CHALLENGE_HEADER,
  WS_AUTH_CLOSE_CODE,
  WS_AUTH_CONTEXT,
  WS_AUTH_PROTOCOL,
  WS_PLAIN_PROTOCOL,
  normalizeAuthUrl,
} from './ws-auth-proof.js';

/**
 * First 8 bytes of the proof message (`"CVGAUTH1"`). Read as a frame's length prefix they
 * announce over 1 GiB, so a proof can never be mistaken for a converge frame.
 */
export const WS_AUTH_MAGIC = Buffer.from('CVGAUTH1', 'latin1');

const CHALLENGE_BYTES = WS_AUTH_CHALLENGE_BYTES;
const PROOF_BYTES = WS_AUTH_MAGIC.byteLength + 32 + 64;

/** Why a client's authentication failed (the `reason` label of `converge_ws_auth_failures_total`). */
export type WsAuthFailReason = 'missing' | 'malformed' | 'bad_signature' | 'wrong_id' | 'unregistered' | 'timeout';

const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** The bytes a client signs: `"converge-ws-auth-v1" ‖ challenge ‖ UTF-8(normalized server URL)`. */
export function wsAuthSignedBytes(challenge: Uint8Array, url: string): Buffer {
  return asBuffer(authSignedBytes(challenge, url));
}

/** Reads the challenge from a 101 response's headers; `undefined` when absent or not 32 bytes. */
export function readChallenge(headers: IncomingMessage['headers']): Buffer | undefined {
  const v = headers[WS_AUTH_CHALLENGE_HEADER];
  if (typeof v !== 'string') return undefined;
  const b = Buffer.from(v, 'base64');
  return b.byteLength === CHALLENGE_BYTES ? b : undefined;
}

/**
 * Client: the proof message answering `challenge` for the server at `url`:
 * `"CVGAUTH1" ‖ public key (32) ‖ Ed25519 signature (64)` over `wsAuthSignedBytes`.
 * Throws `KeyError` when `identity` has no secret key.
 */
export function encodeAuthProof(identity: Identity, challenge: Uint8Array, url: string): Buffer {
  return asBuffer(authProofBytes(identity, challenge, url));
}

/** Result of `verifyAuthProof`. */
export type WsAuthResult = { ok: true; agentId: string } | { ok: false; reason: WsAuthFailReason };

/**
 * Server: checks a proof message. The signature must verify under the enclosed key over
 * `wsAuthSignedBytes(challenge, url)`; the key's fingerprint must equal `claimed` (the
 * `x-converge-agent` header) when one was announced; with a `registry`, the key must be the one
 * registered under that fingerprint. Returns the authenticated agent id.
 */
export function verifyAuthProof(data: Buffer, challenge: Uint8Array, url: string, claimed: string | undefined, registry?: IdentityRegistry): WsAuthResult {
  if (data.byteLength !== PROOF_BYTES || !data.subarray(0, WS_AUTH_MAGIC.byteLength).equals(WS_AUTH_MAGIC)) {
    return { ok: false, reason: data.byteLength >= WS_AUTH_MAGIC.byteLength && data.subarray(0, 8).equals(WS_AUTH_MAGIC) ? 'malformed' : 'missing' };
  }
  const key = data.subarray(8, 40);
  const sig = data.subarray(40, PROOF_BYTES);
  let valid: boolean;
  try {
    valid = ed25519Verify(sig, wsAuthSignedBytes(challenge, url), key);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!valid) return { ok: false, reason: 'bad_signature' };
  const id = fingerprintOf(key);
  if (claimed !== undefined && claimed.toLowerCase() !== id) return { ok: false, reason: 'wrong_id' };
  if (registry) {
    const known = registry.peek(id);
    if (!known || !Buffer.from(known).equals(key)) return { ok: false, reason: 'unregistered' };
  }
  return { ok: true, agentId: id };
}

/** Counters of client authentication on a WebSocket server. */
export interface WsAuthStats {
  /** Clients that proved their key. */
  authenticated: number;
  /** Clients refused (closed with 1008), in total. */
  failed: number;
  /** Refusals by reason. */
  failedByReason: Record<WsAuthFailReason, number>;
}

/**
 * Server side of the exchange: challenges, waits for the proof, counts
 * (`converge_ws_auth_total{transport="websocket",outcome}` with outcome `ok` or a
 * `WsAuthFailReason`) and logs refusals at `warn`.
 */
export class WsServerAuth {
  /** Counters (read by `WebSocketTransport.authStats`). */
  readonly stats: WsAuthStats = {
    authenticated: 0,
    failed: 0,
    failedByReason: { missing: 0, malformed: 0, bad_signature: 0, wrong_id: 0, unregistered: 0, timeout: 0 },
  };
  readonly #challenges = new WeakMap<IncomingMessage, Buffer>();
  readonly #counter: MetricCounter | undefined;
  readonly #logger: Logger | undefined;
  readonly #registry: IdentityRegistry | undefined;
  readonly #timeoutMs: number;

  constructor(options: { registry?: IdentityRegistry; timeoutMs?: number; logger?: Logger; metrics?: Metrics }) {
    this.#registry = options.registry;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_WS_AUTH_TIMEOUT_MS;
    this.#logger = options.logger;
    this.#counter = options.metrics?.counter({
      name: 'converge_ws_auth_total',
      help: 'WebSocket client authentications, by outcome',
      labelNames: ['transport', 'outcome'],
    });
  }

  /**
   * The `ws` server's `handleProtocols`: with authentication required, `WS_AUTH_PROTOCOL` when
   * the client offers it (it cannot read the challenge header: `await` then sends the challenge
   * in-band); without, `WS_PLAIN_PROTOCOL` when offered. No other subprotocol is ever selected.
   */
  static selectProtocol(this: void, protocols: Set<string>, requireAuth: boolean): string | false {
    if (requireAuth) return protocols.has(WS_AUTH_PROTOCOL) ? WS_AUTH_PROTOCOL : false;
    return protocols.has(WS_PLAIN_PROTOCOL) ? WS_PLAIN_PROTOCOL : false;
  }

  /** Adds a fresh challenge to the 101 response headers (the `ws` server's `headers` event). */
  onHeaders(headers: string[], req: IncomingMessage): void {
    const challenge = randomBytes(CHALLENGE_BYTES);
    this.#challenges.set(req, challenge);
    headers.push(`${WS_AUTH_CHALLENGE_HEADER}: ${challenge.toString('base64')}`);
  }

  /**
   * Waits for the client's first message, which must be a valid proof for `url`; then calls
   * `onOk(agentId)`. Otherwise (another message first, a bad proof, nothing within the timeout)
   * closes the socket with 1008 and counts the reason. Nothing the client sends before the
   * proof is delivered.
   */
  await(ws: WebSocket, req: IncomingMessage, url: string, claimed: string | undefined, remote: string, onOk: (agentId: string) => void): void {
    const challenge = this.#challenges.get(req);
    this.#challenges.delete(req);
    const fail = (reason: WsAuthFailReason): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      this.stats.failed++;
      this.stats.failedByReason[reason]++;
      this.#counter?.inc({ transport: 'websocket', outcome: reason });
      this.#logger?.warn({ transport: 'websocket', remote, claimed, reason }, 'websocket client authentication failed');
      ws.close(WS_AUTH_CLOSE_CODE, `converge-auth: ${reason}`);
      // A client that ignores the close handshake is dropped anyway.
      setTimeout(() => ws.terminate(), 1_000).unref();
    };
    const onMessage = (data: Buffer): void => {
      if (!challenge) return fail('missing');
      const r = verifyAuthProof(Buffer.isBuffer(data) ? data : Buffer.from(data), challenge, url, claimed, this.#registry);
      if (!r.ok) return fail(r.reason);
      clearTimeout(timer);
      ws.off('message', onMessage);
      this.stats.authenticated++;
      this.#counter?.inc({ transport: 'websocket', outcome: 'ok' });
      onOk(r.agentId);
    };
    const timer = setTimeout(() => fail('timeout'), this.#timeoutMs);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
    ws.once('message', onMessage);
    // A client that offered WS_AUTH_PROTOCOL (a browser) gets the challenge as the first message too.
    if (challenge && ws.protocol === WS_AUTH_PROTOCOL) ws.send(encodeChallengeMessage(challenge));
  }
}
