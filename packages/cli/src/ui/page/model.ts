import { bytesToHex, decodeMessage, fingerprintOf, verifyMessage, type Message } from '@converge/core';
import { UI_STATE_TYPE, unframeBytes, type UiAuction, type UiState, type UiTaskState } from '../protocol.js';

/** Why the page refused a message. */
export type RejectReason = 'malformed' | 'bad_signature' | 'unknown_sender' | 'bad_key' | 'bad_state';

/** A refused message, as the page lists it. */
export interface RejectedEntry {
  at: number;
  reason: RejectReason;
  sender: string;
  id: string;
}

/** A verified message, as the page lists it. */
export interface ShownMessage {
  at: number;
  sender: string;
  recipient: string | null;
  kind: string;
}

/** An agent the page knows (from the relay's verified state). */
export interface KnownAgent {
  id: string;
  key: Uint8Array;
  role: string;
  capabilities: string[];
  /** In the latest roster (false: it left; its key is kept to verify late messages). */
  alive: boolean;
}

/** Bounds of the page's memory. */
export const PAGE_LIMITS = {
  /** Messages from not-yet-known senders held for a roster. */
  maxPending: 2_000,
  /** How long such a message waits for its sender's key before it is rejected. */
  pendingMs: 3_000,
  rejectedShown: 100,
  messagesShown: 100,
  maxAgents: 4_096,
  maxEdges: 8_192,
  maxBids: 2_000,
  auctionsShown: 60,
  laneTasks: 12,
} as const;

/**
 * What the page knows, built only from messages whose signature it verified itself: the
 * relay's state messages (under the relay key written into the page) and the agents' own
 * messages (under the key the roster gives for the sender, after checking that the key's
 * fingerprint is the sender's id). Everything else is counted and listed as rejected.
 */
export class PageModel {
  readonly relayId: string;
  readonly #relayKey: Uint8Array;
  /** Latest verified relay state. */
  state: UiState | undefined;
  /** Agents by id. */
  readonly agents = new Map<string, KnownAgent>();
  /** `sender>recipient` (`*` for a broadcast) to message count. */
  readonly edges = new Map<string, number>();
  /** Bids seen per auction (verified `bid` messages). */
  readonly bids = new Map<string, { count: number; best: number }>();
  /** Cleared auctions by task id (from the relay's state). */
  readonly auctions = new Map<string, UiAuction>();
  /** Latest task ids per lane. */
  readonly lanes: Record<'pending' | 'claimed' | 'completed' | 'dead', string[]> = { pending: [], claimed: [], completed: [], dead: [] };
  verified = 0;
  rejected = 0;
  /** Frames not processed because the page fell behind (counted, never shown as verified). */
  skipped = 0;
  readonly rejectedList: RejectedEntry[] = [];
  readonly messages: ShownMessage[] = [];
  readonly #pending: { msg: Message; at: number }[] = [];
  readonly #now: () => number;

  constructor(relayKey: Uint8Array, options: { now?: () => number } = {}) {
    this.#relayKey = relayKey;
    this.relayId = fingerprintOf(relayKey);
    this.#now = options.now ?? Date.now;
  }

  /** Agents in the latest roster. */
  get aliveAgents(): KnownAgent[] {
    return [...this.agents.values()].filter((a) => a.alive);
  }

  /** Handles one frame (4-byte length + encoded message); a frame that does not decode is rejected `malformed`. */
  handleFrame(frame: Uint8Array): void {
    const body = unframeBytes(frame);
    let msg: Message;
    try {
      if (!body) throw new Error('not a frame');
      msg = decodeMessage(body);
    } catch {
      return this.#reject('malformed', '', '');
    }
    this.handleMessage(msg);
  }

  /**
   * Handles one decoded message (from the transport): verified, then shown, or rejected.
   * `verified` is the result of checking it already (with `verifyMessageAsync`) under
   * {@link keyFor}'s key; without it the message is checked here (`verifyMessage`).
   */
  handleMessage(msg: Message, verified?: boolean): void {
    if (msg.sender === this.relayId) return this.#fromRelay(msg, verified);
    this.#fromAgent(msg, verified);
  }

  /** The key a message from `sender` must verify under, if the page knows it yet (an id's key never changes). */
  keyFor(sender: string): Uint8Array | undefined {
    return sender === this.relayId ? this.#relayKey : this.agents.get(sender)?.key;
  }

  /** Counts frames the transport refused before they became messages (malformed, short, oversize). */
  countRefusedFrames(n: number): void {
    for (let i = 0; i < n; i++) this.#reject('malformed', '', '');
  }

  /** Rejects held messages whose sender stayed unknown for `pendingMs`. */
  expirePending(): void {
    const limit = this.#now() - PAGE_LIMITS.pendingMs;
    while (this.#pending.length > 0 && this.#pending[0]!.at <= limit) {
      const p = this.#pending.shift()!;
      this.#reject('unknown_sender', p.msg.sender, p.msg.id);
    }
  }

  #fromRelay(msg: Message, verified?: boolean): void {
    if (!(verified ?? verifyMessage(msg, this.#relayKey))) return this.#reject('bad_signature', msg.sender, msg.id);
    const p = msg.payload as unknown as UiState;
    if (!p || typeof p !== 'object' || p.type !== UI_STATE_TYPE || !Array.isArray(p.agents)) return this.#reject('bad_state', msg.sender, msg.id);
    if (this.state && p.seq <= this.state.seq && p.now <= this.state.now) return; // an older state (replayed on join)
    this.verified++;
    this.state = p;
    this.#roster(p);
    for (const a of p.auctions) this.auctions.set(a.taskId, a);
    while (this.auctions.size > PAGE_LIMITS.auctionsShown) this.auctions.delete(this.auctions.keys().next().value!);
    for (const [id, state] of p.recent) this.#lane(id, state);
    this.#retryPending();
  }

  #roster(p: UiState): void {
    const seen = new Set<string>();
    for (const a of p.agents) {
      // The relay cannot substitute a key: an agent's id is its key's fingerprint.
      if (!(a.key instanceof Uint8Array) || fingerprintOf(a.key) !== a.id) {
        this.#reject('bad_key', a.id, '');
        continue;
      }
      seen.add(a.id);
      const known = this.agents.get(a.id);
      if (known) {
        known.alive = true;
        known.role = a.role;
      } else if (this.agents.size < PAGE_LIMITS.maxAgents) {
        this.agents.set(a.id, { id: a.id, key: a.key, role: a.role, capabilities: [...a.capabilities], alive: true });
      }
    }
    for (const a of this.agents.values()) if (!seen.has(a.id)) a.alive = false;
  }

  #lane(id: string, state: UiTaskState): void {
    const lane = state === 'failed' || state === 'cancelled' ? 'dead' : state;
    for (const k of Object.keys(this.lanes) as (keyof PageModel['lanes'])[]) {
      const i = this.lanes[k].indexOf(id);
      if (i >= 0) this.lanes[k].splice(i, 1);
    }
    const l = this.lanes[lane];
    l.unshift(id);
    if (l.length > PAGE_LIMITS.laneTasks) l.length = PAGE_LIMITS.laneTasks;
  }

  #fromAgent(msg: Message, verified?: boolean): void {
    const agent = this.agents.get(msg.sender);
    if (!agent) {
      if (this.#pending.length >= PAGE_LIMITS.maxPending) return this.#reject('unknown_sender', msg.sender, msg.id);
      this.#pending.push({ msg, at: this.#now() });
      return;
    }
    if (!(verified ?? verifyMessage(msg, agent.key))) return this.#reject('bad_signature', msg.sender, msg.id);
    this.verified++;
    const to = msg.recipient ?? '*';
    const edge = `${msg.sender}>${to}`;
    if (this.edges.has(edge) || this.edges.size < PAGE_LIMITS.maxEdges) this.edges.set(edge, (this.edges.get(edge) ?? 0) + 1);
    const p = msg.payload as { type?: unknown; auctionId?: unknown; amount?: unknown } | null;
    const kind = p && typeof p === 'object' && typeof p.type === 'string' ? p.type : typeof msg.payload;
    if (kind === 'bid' && typeof p!.auctionId === 'string' && typeof p!.amount === 'number') {
      const b = this.bids.get(p!.auctionId);
      if (b) {
        b.count++;
        b.best = Math.max(b.best, p!.amount);
      } else if (this.bids.size < PAGE_LIMITS.maxBids) this.bids.set(p!.auctionId, { count: 1, best: p!.amount });
    }
    this.messages.unshift({ at: msg.timestamp, sender: msg.sender, recipient: msg.recipient, kind });
    if (this.messages.length > PAGE_LIMITS.messagesShown) this.messages.length = PAGE_LIMITS.messagesShown;
  }

  #retryPending(): void {
    const held = this.#pending.splice(0);
    for (const p of held) {
      if (this.agents.has(p.msg.sender)) this.#fromAgent(p.msg);
      else this.#pending.push(p);
    }
    this.expirePending();
  }

  #reject(reason: RejectReason, sender: string, id: string): void {
    this.rejected++;
    this.rejectedList.unshift({ at: this.#now(), reason, sender, id });
    if (this.rejectedList.length > PAGE_LIMITS.rejectedShown) this.rejectedList.length = PAGE_LIMITS.rejectedShown;
  }
}

/** A short form of an id for the page (`ab12cd34`). */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id || '—';
}

/** Hex of a key, for the page's identity line. */
export const hex = bytesToHex;
