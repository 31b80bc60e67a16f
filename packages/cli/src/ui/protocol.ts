/**
 * What the `--ui` server and its page say to each other (browser-safe: no `node:*`, no `Buffer`).
 *
 * The page connects to `ws://HOST:PORT/ws`. A browser can neither send custom headers on the
 * upgrade nor read the 101 response's, so the challenge of the WebSocket transport's client
 * authentication (`@converge/network/websocket`, `ws-auth.ts`) travels as the server's first
 * message instead: `"CVGCHAL1" ‖ 32 random bytes`. The page answers with the transport's own
 * proof, `"CVGAUTH1" ‖ public key (32) ‖ Ed25519 signature over
 * "converge-ws-auth-v1" ‖ challenge ‖ "ws://host:port"`, checked by network's `verifyAuthProof`.
 * After that every WebSocket message in either direction is one converge frame (4-byte
 * big-endian length + the encoded message), as on the WebSocket transport.
 */

/** First 8 bytes of the server's challenge message. */
export const UI_CHALLENGE_MAGIC = 'CVGCHAL1';

/** Bytes of the random challenge after the magic. */
export const UI_CHALLENGE_BYTES = 32;

/** Path of the page's WebSocket endpoint. */
export const UI_WS_PATH = '/ws';

/** `payload.type` of the relay's signed state messages. */
export const UI_STATE_TYPE = 'converge-ui/state';

/** One agent of the run, as the relay lists it (from discovery). */
export interface UiAgent {
  id: string;
  /** Raw 32-byte Ed25519 public key (the page checks that its fingerprint is `id`). */
  key: Uint8Array;
  role: string;
  capabilities: string[];
}

/** One task transition: `[taskId, state, agentId or '', unix ms]`. */
export type UiTransition = [string, UiTaskState, string, number];

/** The states the page draws a task in. */
export type UiTaskState = 'pending' | 'claimed' | 'completed' | 'dead' | 'failed' | 'cancelled';

/** An auction that cleared: the task, the winner and the clearing price. */
export interface UiAuction {
  taskId: string;
  winner: string;
  price: number;
  /** Auction type where the run names it (`second-price`, …), else ''. */
  kind: string;
  at: number;
}

/** Counters of the task states. */
export interface UiTaskCounts {
  pending: number;
  claimed: number;
  completed: number;
  dead: number;
  failed: number;
  cancelled: number;
  /** Attempts that failed and went back to pending (retries), plus expired leases. */
  retried: number;
}

/** Latency histogram of completed tasks: `counts[i]` tasks took at most `bounds[i]` ms (the last bucket is open). */
export interface UiLatency {
  bounds: number[];
  counts: number[];
  count: number;
  sumMs: number;
  maxMs: number;
}

/** The relay's state message payload, signed by the relay's key, sent a few times a second. */
export interface UiState {
  type: typeof UI_STATE_TYPE;
  seq: number;
  now: number;
  /** Tasks the run plans (or has submitted, when it runs for a duration). */
  total: number;
  /** `running`, `done` (every task terminal; the run lingers) or `stopping`. */
  phase: string;
  poolId: string;
  transport: string;
  tasks: UiTaskCounts;
  /** Transitions since the previous state message (at most a bounded number; see `dropped`). */
  recent: UiTransition[];
  agents: UiAgent[];
  observers: string[];
  pools: { id: string; members: string[] }[];
  auctions: UiAuction[];
  latency: UiLatency;
  /** Messages the run's own runtimes rejected (bad signature, unknown key, replay, …). */
  runRejected: number;
  /** Relay counters: agent messages copied to observers, copies dropped (a slow page), frames forwarded from clients, transitions left out. */
  relay: { tapped: number; dropped: number; forwarded: number; refused: number; recentDropped: number };
}

/** Upper bounds (ms) of the latency histogram buckets; the last bucket is everything above. */
export const UI_LATENCY_BOUNDS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000];

/** ASCII text to bytes (the magic strings; browser-safe). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

/** Prefixes an encoded message with its 4-byte big-endian length (one WebSocket message). */
export function frameBytes(encoded: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + encoded.byteLength);
  new DataView(out.buffer).setUint32(0, encoded.byteLength, false);
  out.set(encoded, 4);
  return out;
}

/** The encoded message of one frame, or `undefined` when the frame is short or its length is wrong. */
export function unframeBytes(frame: Uint8Array): Uint8Array | undefined {
  if (frame.byteLength < 4) return undefined;
  const len = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, false);
  if (len !== frame.byteLength - 4) return undefined;
  return frame.subarray(4);
}

/** `ws://host:port` the way the transport's `normalizeAuthUrl` writes it (scheme and host, lower case, no path). */
export function authUrlOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

/** The transport's authentication context string (`WS_AUTH_CONTEXT` of `@converge/network/websocket`; a test keeps them equal). */
export const UI_AUTH_CONTEXT = 'converge-ws-auth-v1';

/** The transport's proof magic (`WS_AUTH_MAGIC`; a test keeps them equal). */
export const UI_AUTH_MAGIC = 'CVGAUTH1';

/**
 * The proof a page sends: `"CVGAUTH1" ‖ public key ‖ sign("converge-ws-auth-v1" ‖ challenge ‖ authUrl)`,
 * byte for byte what `encodeAuthProof` of the WebSocket transport makes.
 */
export function uiAuthProof(identity: { publicKey: Uint8Array; sign(data: Uint8Array): Uint8Array }, challenge: Uint8Array, url: string): Uint8Array {
  const enc = new TextEncoder();
  const ctx = enc.encode(UI_AUTH_CONTEXT);
  const u = enc.encode(authUrlOf(url));
  const signed = new Uint8Array(ctx.byteLength + challenge.byteLength + u.byteLength);
  signed.set(ctx, 0);
  signed.set(challenge, ctx.byteLength);
  signed.set(u, ctx.byteLength + challenge.byteLength);
  const sig = identity.sign(signed);
  const out = new Uint8Array(8 + 32 + 64);
  out.set(asciiBytes(UI_AUTH_MAGIC), 0);
  out.set(identity.publicKey, 8);
  out.set(sig, 40);
  return out;
}

/** The challenge in the server's first message, or `undefined` when it is not one. */
export function readUiChallenge(data: Uint8Array): Uint8Array | undefined {
  if (data.byteLength !== 8 + UI_CHALLENGE_BYTES) return undefined;
  const magic = asciiBytes(UI_CHALLENGE_MAGIC);
  for (let i = 0; i < 8; i++) if (data[i] !== magic[i]) return undefined;
  return data.slice(8);
}
