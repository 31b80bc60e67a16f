import { createMessage, encodeMessage, signMessage, type Identity, type Message, type Task, type WireValue } from '@converge/core';
import type { Transport } from '@converge/core';
import type { Logger } from '@converge/observability';
import { UI_LATENCY_BOUNDS, UI_STATE_TYPE, frameBytes } from './protocol.js';
import type { UiAgent, UiAuction, UiState, UiTaskCounts, UiTaskState, UiTransition } from './protocol.js';
import type { UiObserver, UiServer } from './server.js';

/** Default agent messages kept for a page that connects later: 256. */
export const DEFAULT_UI_REPLAY_MESSAGES = 256;
/** Default task transitions per state message (more are counted as `recentDropped`): 200. */
export const DEFAULT_UI_RECENT_PER_STATE = 200;
/** Default cleared auctions listed in a state message: 50. */
export const DEFAULT_UI_AUCTIONS = 50;
/** Default interval between state messages: 250 ms. */
export const DEFAULT_UI_STATE_INTERVAL_MS = 250;

/** The parts of a TaskManager the feed listens to (its events). */
export interface TaskEvents {
  on(event: 'submitted' | 'completed' | 'released' | 'cancelled', listener: (t: Task) => void): () => void;
  on(event: 'claimed', listener: (e: { task: Task }) => void): () => void;
  on(event: 'failed', listener: (e: { task: Task; deadLettered: boolean; retryAt: number | null }) => void): () => void;
}

/** Where the feed reads the agents and pools of the run (polled about once a second). */
export interface RunSources {
  taskManager: TaskEvents;
  /** The run's agents, as discovery knows them (id, public key, capabilities). */
  agents(signal: AbortSignal): Promise<{ id: string; publicKey?: Uint8Array; capabilities: { name: string }[] }[]>;
  pools(signal: AbortSignal): Promise<{ id: string; agents: string[] }[]>;
  /** Role of an agent (`coordinator`, `worker`, …). */
  roleOf(id: string): string;
  /** Messages the run's runtimes rejected so far. */
  rejected(): number;
}

/** Options of {@link UiFeed}. */
export interface UiFeedOptions {
  server: UiServer;
  relay: Identity;
  poolId: string;
  transport: string;
  /** Tasks planned (or submitted so far, for a run without a fixed count). */
  total: () => number;
  logger?: Logger;
  replayMessages?: number;
  recentPerState?: number;
  stateIntervalMs?: number;
}

const TERMINAL: ReadonlySet<UiTaskState> = new Set(['completed', 'dead', 'failed', 'cancelled']);

/**
 * What the page sees of a run: a copy of every message an agent sends (tapped from its
 * transport, still signed by the agent; the page verifies it) and, a few times a second, a
 * state message signed by the relay's own key — task counts and transitions, the agents and
 * their keys (from discovery), pools and members, cleared auctions, the latency histogram.
 * Memory is bounded by the tasks in flight plus fixed-size rings.
 */
export class UiFeed {
  readonly #o: UiFeedOptions;
  readonly #inFlight = new Map<string, { state: UiTaskState; submittedAt: number }>();
  readonly #counts: UiTaskCounts = { pending: 0, claimed: 0, completed: 0, dead: 0, failed: 0, cancelled: 0, retried: 0 };
  #recent: UiTransition[] = [];
  #recentDropped = 0;
  readonly #auctions: UiAuction[] = [];
  readonly #latency = { bounds: [...UI_LATENCY_BOUNDS], counts: new Array<number>(UI_LATENCY_BOUNDS.length + 1).fill(0), count: 0, sumMs: 0, maxMs: 0 };
  readonly #ring: Message[] = [];
  #ringAt = 0;
  #tapped = 0;
  #agents: UiAgent[] = [];
  #pools: { id: string; members: string[] }[] = [];
  #sources: RunSources | undefined;
  #phase = 'running';
  #seq = 0;
  readonly #stop = new AbortController();
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling = false;
  #lastPoll = 0;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(options: UiFeedOptions) {
    this.#o = options;
  }

  /** A view of `transport` whose `send` also copies the (signed) message to the pages. */
  tap(transport: Transport): Transport {
    const send = (message: Message, options?: Parameters<Transport['send']>[1]): Promise<void> => {
      this.#copy(message);
      return transport.send(message, options);
    };
    return new Proxy(transport, {
      get(target, key) {
        if (key === 'send') return send;
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /** Starts listening to the run's task events and polling its agents and pools. */
  watch(sources: RunSources): void {
    this.#sources = sources;
    const tm = sources.taskManager;
    this.#unsubscribe.push(
      tm.on('submitted', (t) => this.#submitted(t)),
      tm.on('claimed', (e) => this.#move(e.task, 'claimed')),
      tm.on('completed', (t) => this.#move(t, 'completed')),
      tm.on('released', (t) => this.#retry(t)),
      tm.on('cancelled', (t) => this.#move(t, 'cancelled')),
      tm.on('failed', (e) => (e.deadLettered ? this.#move(e.task, 'dead') : e.retryAt !== null ? this.#retry(e.task) : this.#move(e.task, 'failed'))),
    );
    this.#timer = setInterval(() => this.#tick(), this.#o.stateIntervalMs ?? DEFAULT_UI_STATE_INTERVAL_MS);
    this.#timer.unref?.();
    void this.#poll();
  }

  /** Sets the phase the page shows (`running`, `done`, `stopping`) and sends a state message now. */
  setPhase(phase: string): void {
    this.#phase = phase;
    this.#broadcastState();
  }

  /** A page joined: it gets the current state and the last agent messages. */
  onJoin(observer: UiObserver): void {
    observer.send(this.#stateFrame(this.#state(false)), false);
    const n = this.#ring.length;
    for (let i = 0; i < n; i++) {
      const m = this.#ring[(this.#ringAt + i) % n]!;
      observer.send(frameBytes(encodeMessage(m)), true);
    }
  }

  /** Stops the timers and listeners; a last state message goes out. */
  close(): void {
    this.#stop.abort();
    if (this.#timer) clearInterval(this.#timer);
    for (const u of this.#unsubscribe) u();
  }

  #copy(message: Message): void {
    this.#tapped++;
    const max = this.#o.replayMessages ?? DEFAULT_UI_REPLAY_MESSAGES;
    if (this.#ring.length < max) this.#ring.push(message);
    else {
      this.#ring[this.#ringAt] = message;
      this.#ringAt = (this.#ringAt + 1) % max;
    }
    const observers = this.#o.server.observers;
    if (observers.length === 0) return;
    let frame: Uint8Array;
    try {
      frame = frameBytes(encodeMessage(message));
    } catch (err) {
      this.#o.logger?.debug({ err }, 'ui: cannot encode a tapped message');
      return;
    }
    for (const o of observers) o.send(frame, true);
  }

  #submitted(t: Task): void {
    const inputs = t.inputs as Record<string, unknown>;
    const submittedAt = typeof inputs.submittedAt === 'number' ? inputs.submittedAt : Date.now();
    const prev = this.#inFlight.get(t.id);
    if (prev) this.#counts[prev.state]--;
    this.#inFlight.set(t.id, { state: 'pending', submittedAt });
    this.#counts.pending++;
    this.#transition(t.id, 'pending', '');
    const c = t.constraints as Record<string, unknown>;
    if (typeof c.clearingPrice === 'number') {
      const kind = typeof c.auctionType === 'string' ? c.auctionType : typeof c.auction === 'string' ? c.auction : '';
      this.#auctions.push({ taskId: t.id, winner: typeof c.reservedFor === 'string' ? c.reservedFor : '', price: c.clearingPrice, kind, at: Date.now() });
      if (this.#auctions.length > DEFAULT_UI_AUCTIONS) this.#auctions.shift();
    }
  }

  #retry(t: Task): void {
    this.#counts.retried++;
    this.#move(t, 'pending');
  }

  #move(t: Task, state: UiTaskState): void {
    const cur = this.#inFlight.get(t.id);
    if (cur) this.#counts[cur.state]--;
    else if (state === 'pending') return; // not one this run submitted
    this.#counts[state]++;
    this.#transition(t.id, state, t.assignedTo ?? '');
    if (!TERMINAL.has(state)) {
      this.#inFlight.set(t.id, { state, submittedAt: cur?.submittedAt ?? Date.now() });
      return;
    }
    this.#inFlight.delete(t.id);
    if (state === 'completed') {
      const inputs = t.inputs as Record<string, unknown>;
      const start = typeof inputs.submittedAt === 'number' ? inputs.submittedAt : cur?.submittedAt;
      if (start !== undefined) this.#observeLatency(Math.max(0, Date.now() - start));
    }
  }

  #observeLatency(ms: number): void {
    const l = this.#latency;
    let i = 0;
    while (i < l.bounds.length && ms > l.bounds[i]!) i++;
    l.counts[i]!++;
    l.count++;
    l.sumMs += ms;
    if (ms > l.maxMs) l.maxMs = ms;
  }

  #transition(id: string, state: UiTaskState, agent: string): void {
    this.#recent.push([id, state, agent, Date.now()]);
    const max = this.#o.recentPerState ?? DEFAULT_UI_RECENT_PER_STATE;
    if (this.#recent.length > max * 2) {
      this.#recentDropped += this.#recent.length - max;
      this.#recent = this.#recent.slice(-max);
    }
  }

  #tick(): void {
    if (Date.now() - this.#lastPoll >= 1_000) void this.#poll();
    this.#broadcastState();
  }

  async #poll(): Promise<void> {
    const s = this.#sources;
    if (!s || this.#polling || this.#stop.signal.aborted) return;
    this.#polling = true;
    this.#lastPoll = Date.now();
    try {
      const signal = this.#stop.signal;
      const found = await s.agents(signal);
      this.#agents = found
        .filter((d) => d.publicKey instanceof Uint8Array)
        .map((d) => ({ id: d.id, key: d.publicKey!, role: s.roleOf(d.id), capabilities: d.capabilities.map((c) => c.name) }));
      this.#pools = (await s.pools(signal)).map((p) => ({ id: p.id, members: [...p.agents] }));
    } catch (err) {
      if (!this.#stop.signal.aborted) this.#o.logger?.warn({ err }, 'ui: cannot read the agents or pools');
    } finally {
      this.#polling = false;
    }
  }

  #broadcastState(): void {
    const observers = this.#o.server.observers;
    const state = this.#state(true);
    if (observers.length === 0) return;
    const frame = this.#stateFrame(state);
    for (const o of observers) o.send(frame, false);
  }

  /** The state now; `take` empties the transitions list (they go out once). */
  #state(take: boolean): UiState {
    const max = this.#o.recentPerState ?? DEFAULT_UI_RECENT_PER_STATE;
    let recent = this.#recent;
    if (recent.length > max) {
      if (take) this.#recentDropped += recent.length - max;
      recent = recent.slice(-max);
    }
    if (take) this.#recent = [];
    const srv = this.#o.server.stats;
    return {
      type: UI_STATE_TYPE,
      seq: ++this.#seq,
      now: Date.now(),
      total: this.#o.total(),
      phase: this.#phase,
      poolId: this.#o.poolId,
      transport: this.#o.transport,
      tasks: { ...this.#counts },
      recent: take ? recent : [],
      agents: this.#agents,
      observers: this.#o.server.observers.map((o) => o.id),
      pools: this.#pools,
      auctions: [...this.#auctions],
      latency: { ...this.#latency, bounds: [...this.#latency.bounds], counts: [...this.#latency.counts] },
      runRejected: this.#sources?.rejected() ?? 0,
      relay: { tapped: this.#tapped, dropped: srv.dropped, forwarded: srv.forwarded, refused: srv.refusedFrames, recentDropped: this.#recentDropped },
    };
  }

  #stateFrame(state: UiState): Uint8Array {
    const msg = signMessage(createMessage({ sender: this.#o.relay.fingerprint, recipient: null, payload: state as unknown as WireValue }), this.#o.relay);
    return frameBytes(encodeMessage(msg));
  }
}
