import {
  ConflictError,
  LimitExceededError,
  isIdentity,
  NotFoundError,
  SignatureError,
  ValidationError,
  base64ToBytes,
  bytesToBase64,
  nowOf,
  topicToString,
  type ClockLike,
  type Store,
  type Topic,
  type WireRecord,
  requireInt,
} from '@converge/core';
import type { Startable } from '@converge/core';
import type { Logger, MetricCounter, Metrics } from '@converge/core';
import {
  cloneDescriptor,
  createDescriptor,
  descriptorFromDict,
  descriptorToDict,
  type AgentDescriptor,
  type AgentDescriptorInit,
} from './discovery-descriptor.js';
import { signDescriptor, verifyDescriptor } from './discovery-signature.js';

/** Default time a registration lives without a refresh: 60 s. */
export const DEFAULT_DISCOVERY_TTL_MS = 60_000;
/** Default most agents a `DiscoveryService` holds. */
export const DEFAULT_DISCOVERY_MAX_AGENTS = 100_000;

/** Store key prefix of the reference-form records (`AgentDescriptor.to_dict()`). */
export const DISCOVERY_AGENT_PREFIX = 'discovery:agent:';
/**
 * Store key prefix of our extra fields (`{endpoints, metadata, last_seen}`), kept beside the
 * reference record rather than inside it so the reference reads its record unchanged.
 */
export const DISCOVERY_EXTRA_PREFIX = 'discovery:ext:';

/** A discovery query. Empty lists match everything. */
export interface DiscoveryQuery {
  /** Topic namespaces (strings) or exact topics. */
  topics?: (string | Topic)[];
  /** Capability names. */
  capabilities?: string[];
  /** `all` (default): every listed topic and capability; `any`: at least one of them. */
  match?: 'all' | 'any';
  /** Only agents whose trust score (the service's `trust` lookup) is at least this. */
  minTrust?: number;
}

/** Where discovery reads trust scores from (a policy `TrustModel` fits). */
export interface TrustSource {
  /** The agent's current trust score. */
  score(agentId: string): number;
}

/** Options of `DiscoveryService`. */
export interface DiscoveryServiceOptions {
  /** Persists registrations (reloaded by `start()`). */
  store?: Store;
  /** Lifetime of a registration without refresh, in ms (default 60,000). */
  ttlMs?: number;
  /** Most agents held (default 100,000); more throws `LimitExceededError`. */
  maxAgents?: number;
  /** Clock: a `Clock` or a function returning Unix ms (default `Date.now`). */
  clock?: ClockLike;
  /** Logs records skipped on load. */
  logger?: Logger;
  /**
   * Counts `converge_discovery_invalid_records_total`, `converge_discovery_expired_total` and
   * `converge_discovery_refused_total`.
   */
  metrics?: Metrics;
  /** Trust scores for `DiscoveryQuery.minTrust`: a `TrustSource` or a function. */
  trust?: TrustSource | ((agentId: string) => number);
  /**
   * Loads stored records that carry no valid signature (as the reference writes them), as
   * unverified entries (default `false`: such records are skipped and counted as invalid).
   */
  acceptUnsignedRecords?: boolean;
}

/**
 * Which agents exist, what they listen to and what they can do. Registrations expire `ttlMs`
 * after their last `register`/`refresh` (checked lazily, no timers). With a store, each
 * agent is written under `discovery:agent:<id>` in the reference's `to_dict()` form and our
 * extra fields (signature included) under `discovery:ext:<id>`; `start()` reloads them.
 *
 * Registrations are self-certifying (see `signDescriptor`): a descriptor must be signed by the
 * key whose fingerprint is its id, or `register` refuses it (`SignatureError`, counted), so no
 * one can advertise endpoints under another agent's id or replace or drop its key; nor go
 * back to an older signed descriptor (`ConflictError`). `refresh` and `unregister` are local
 * operations of the process that owns the service.
 */
export class DiscoveryService implements Startable {
  /** Registration lifetime in ms. */
  readonly ttlMs: number;
  /** Most agents held. */
  readonly maxAgents: number;
  /** Counters: records skipped on load, registrations expired. */
  readonly stats = { invalidRecords: 0, expired: 0, refused: 0 };
  readonly #store: Store | undefined;
  readonly #clock: () => number;
  readonly #agents = new Map<string, AgentDescriptor>();
  readonly #logger: Logger | undefined;
  readonly #invalid: MetricCounter | undefined;
  readonly #expiredCounter: MetricCounter | undefined;
  readonly #refusedCounter: MetricCounter | undefined;
  readonly #trust: ((agentId: string) => number) | undefined;
  readonly #acceptUnsigned: boolean;

  constructor(options: DiscoveryServiceOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_DISCOVERY_TTL_MS;
    this.maxAgents = options.maxAgents ?? DEFAULT_DISCOVERY_MAX_AGENTS;
    if (!(this.ttlMs > 0)) throw new ValidationError('ttlMs must be positive');
    requireInt(this.maxAgents, 'maxAgents', { error: 'validation' });
    this.#store = options.store;
    this.#clock = nowOf(options.clock);
    this.#logger = options.logger;
    this.#invalid = options.metrics?.counter({
      name: 'converge_discovery_invalid_records_total',
      help: 'Stored discovery records skipped on load',
      labelNames: [],
    });
    this.#expiredCounter = options.metrics?.counter({ name: 'converge_discovery_expired_total', help: 'Discovery registrations expired', labelNames: [] });
    this.#refusedCounter = options.metrics?.counter({
      name: 'converge_discovery_refused_total',
      help: 'Discovery registrations refused, by reason',
      labelNames: ['reason'],
    });
    const trust = options.trust;
    this.#trust = typeof trust === 'function' ? trust : trust ? (id) => trust.score(id) : undefined;
    this.#acceptUnsigned = options.acceptUnsignedRecords ?? false;
  }

  /** Loads the store's records (unreadable ones are logged, counted and skipped). */
  async start(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    const now = this.#clock();
    for (const key of await store.list(DISCOVERY_AGENT_PREFIX)) {
      const id = key.slice(DISCOVERY_AGENT_PREFIX.length);
      try {
        const dict = await store.get(key);
        const ext = (await store.get<Record<string, unknown>>(DISCOVERY_EXTRA_PREFIX + id)) ?? {};
        // A record written by the reference has no extras: it counts as seen now.
        const lastSeen = typeof ext.last_seen === 'number' ? ext.last_seen : now;
        const d = descriptorFromDict(dict, {
          endpoints: Array.isArray(ext.endpoints) ? (ext.endpoints as string[]) : undefined,
          metadata: ext.metadata as WireRecord | undefined,
          lastSeen,
        });
        if (d.id !== id) throw new ValidationError(`record id ${d.id} does not match its key`);
        if (typeof ext.signature === 'string') d.signature = base64ToBytes(ext.signature);
        if (typeof ext.issued_at === 'number') d.issuedAt = ext.issued_at;
        // Whoever could write the store must not be able to advertise under another agent's id.
        if (!verifyDescriptor(d) && !this.#acceptUnsigned) throw new SignatureError(`stored descriptor ${id.slice(0, 16)} is not signed by its key`);
        if (this.#isExpired(d, now)) {
          await this.#expire(d.id);
          continue;
        }
        if (!this.#agents.has(d.id) && this.#agents.size >= this.maxAgents) throw new LimitExceededError('discovery is full');
        this.#agents.set(d.id, d);
      } catch (err) {
        this.stats.invalidRecords++;
        this.#invalid?.inc();
        this.#logger?.warn({ key, err }, 'skipped unreadable discovery record');
      }
    }
  }

  /** Nothing to release (no timers); present for the lifecycle convention. */
  async stop(): Promise<void> {}

  /**
   * Registers (or replaces) an agent; `lastSeen` is set to now. Returns the stored descriptor.
   * The descriptor must be signed by its own key (`signDescriptor`), or carry the agent's
   * signing `Identity` as `publicKey` (it is then signed here, issued now). Otherwise it is
   * refused with `SignatureError`; one issued before the registered one with `ConflictError`.
   */
  async register(descriptor: AgentDescriptorInit): Promise<AgentDescriptor> {
    const now = this.#clock();
    const signer = isIdentity(descriptor?.publicKey) && descriptor.publicKey.canSign ? descriptor.publicKey : undefined;
    const d = signer ? signDescriptor({ ...descriptor, lastSeen: now }, signer, now) : createDescriptor({ ...descriptor, lastSeen: now });
    if (!verifyDescriptor(d)) {
      this.#refuse('unsigned');
      throw new SignatureError(`descriptor ${d.id.slice(0, 16)} is not signed by the key of its id`);
    }
    const current = this.#agents.get(d.id);
    if (current?.issuedAt !== undefined && d.issuedAt! < current.issuedAt) {
      this.#refuse('older');
      throw new ConflictError(`descriptor ${d.id.slice(0, 16)} was issued before the registered one`);
    }
    if (!this.#agents.has(d.id)) {
      await this.sweep();
      if (this.#agents.size >= this.maxAgents) throw new LimitExceededError(`discovery holds ${this.maxAgents} agents`);
    }
    this.#agents.set(d.id, d);
    await this.#persist(d);
    return cloneDescriptor(d);
  }

  /** Extends an agent's registration by `ttlMs` from now. Throws `NotFoundError` if unknown or expired. */
  async refresh(id: string): Promise<void> {
    const d = await this.#live(id);
    if (!d) throw new NotFoundError(`agent ${id} is not registered`);
    d.lastSeen = this.#clock();
    await this.#persist(d);
  }

  /** Removes an agent; returns whether it was registered. */
  async unregister(id: string): Promise<boolean> {
    const had = this.#agents.delete(id);
    if (this.#store) {
      await this.#store.delete(DISCOVERY_AGENT_PREFIX + id);
      await this.#store.delete(DISCOVERY_EXTRA_PREFIX + id);
    }
    return had;
  }

  /** The agent's descriptor (a copy), if registered and not expired. */
  async get(id: string): Promise<AgentDescriptor | undefined> {
    const d = await this.#live(id);
    return d ? cloneDescriptor(d) : undefined;
  }

  /** Live agents matching `query` (copies), in registration order. */
  async query(query: DiscoveryQuery = {}): Promise<AgentDescriptor[]> {
    await this.sweep();
    const topics = query.topics ?? [];
    const caps = query.capabilities ?? [];
    const matchAll = (query.match ?? 'all') === 'all';
    if (query.match !== undefined && query.match !== 'all' && query.match !== 'any') throw new ValidationError("match must be 'all' or 'any'");
    const trusted = this.#trustFilter(query.minTrust);
    const wanted = [
      ...topics.map(
        (t) => (d: AgentDescriptor) =>
          typeof t === 'string' ? d.topics.some((x) => x.namespace === t) : d.topics.some((x) => topicToString(x) === topicToString(t)),
      ),
      ...caps.map((c) => (d: AgentDescriptor) => d.capabilities.some((x) => x.name === c)),
    ];
    const out: AgentDescriptor[] = [];
    for (const d of this.#agents.values()) {
      const ok = wanted.length === 0 || (matchAll ? wanted.every((w) => w(d)) : wanted.some((w) => w(d)));
      if (ok && trusted(d.id)) out.push(cloneDescriptor(d));
    }
    return out;
  }

  /** Number of registrations held (expired ones count until the next sweep). */
  get size(): number {
    return this.#agents.size;
  }

  /** Removes every expired registration (from memory and the store); returns how many. */
  async sweep(): Promise<number> {
    const now = this.#clock();
    const expired = [...this.#agents.values()].filter((d) => this.#isExpired(d, now)).map((d) => d.id);
    for (const id of expired) await this.#expire(id);
    return expired.length;
  }

  #refuse(reason: 'unsigned' | 'older'): void {
    this.stats.refused++;
    this.#refusedCounter?.inc({ reason });
  }

  #trustFilter(minTrust: number | undefined): (id: string) => boolean {
    if (minTrust === undefined) return () => true;
    if (typeof minTrust !== 'number' || Number.isNaN(minTrust)) throw new ValidationError('minTrust must be a number');
    const trust = this.#trust;
    if (!trust) throw new ValidationError('minTrust needs a DiscoveryService created with a trust lookup');
    return (id) => {
      const score = trust(id);
      return typeof score === 'number' && score >= minTrust;
    };
  }

  async #live(id: string): Promise<AgentDescriptor | undefined> {
    const d = this.#agents.get(id);
    if (d && this.#isExpired(d, this.#clock())) {
      await this.#expire(id);
      return undefined;
    }
    return d;
  }

  #isExpired(d: AgentDescriptor, now: number): boolean {
    return now - d.lastSeen >= this.ttlMs;
  }

  async #expire(id: string): Promise<void> {
    this.stats.expired++;
    this.#expiredCounter?.inc();
    await this.unregister(id);
  }

  async #persist(d: AgentDescriptor): Promise<void> {
    if (!this.#store) return;
    await this.#store.put(DISCOVERY_AGENT_PREFIX + d.id, descriptorToDict(d));
    const ext: Record<string, unknown> = { endpoints: d.endpoints, metadata: d.metadata, last_seen: d.lastSeen };
    if (d.signature) ext.signature = bytesToBase64(d.signature);
    if (d.issuedAt !== undefined) ext.issued_at = d.issuedAt;
    await this.#store.put(DISCOVERY_EXTRA_PREFIX + d.id, ext);
  }
}
