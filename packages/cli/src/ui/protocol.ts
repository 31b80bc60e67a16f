/**
 * What the `--ui` server and its page say to each other (browser-safe: no `node:*`, no `Buffer`).
 *
 * The page connects to `ws://HOST:PORT/ws` with the WebSocket client transport
 * (`@converge/transport-websocket/client`) and authenticates as the transport does: it offers the
 * subprotocol `converge-auth.v1`, gets the challenge as the server's first message (a browser
 * cannot read the 101 response's headers), and answers with the transport's proof (checked by
 * network's `verifyAuthProof`). After that every WebSocket message is one converge frame
 * (4-byte big-endian length + the encoded message).
 */

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
