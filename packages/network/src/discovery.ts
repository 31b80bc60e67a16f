import {
  LimitExceededError, NotFoundError, ValidationError, topicToString,
  type Store, type Topic, type WireRecord,
} from '@converge/core';
import type { Logger, MetricsCollector } from '@converge/observability';
import {
  cloneDescriptor, createDescriptor, descriptorFromDict, descriptorToDict,
  type AgentDescriptor, type AgentDescriptorInit,
} from './discovery-descriptor.js';

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
}

/** Options of `DiscoveryService`. */
export interface DiscoveryServiceOptions {
  /** Persists registrations (reloaded by `start()`). */
  store?: Store;
  /** Lifetime of a registration without refresh, in ms (default 60,000). */
  ttlMs?: number;
  /** Most agents held (default 100,000); more throws `LimitExceededError`. */
  maxAgents?: number;
  /** Clock in Unix ms (default `Date.now`). */
  clock?: () => number;
  /** Logs records skipped on load. */
  logger?: Logger;
  /** Counts `converge_discovery_invalid_records_total` and `converge_discovery_expired_total`. */
  metrics?: MetricsCollector;
}

/**
 * Which agents exist, what they listen to and what they can do. Registrations expire `ttlMs`
 * after their last `register`/`refresh` (checked lazily, no timers). With a store, each
 * agent is written under `discovery:agent:<id>` in the reference's `to_dict()` form and our
 * extra fields under `discovery:ext:<id>`; `start()` reloads them.
 */
export class DiscoveryService {
  /** Registration lifetime in ms. */
  readonly ttlMs: number;
  /** Most agents held. */
  readonly maxAgents: number;
  /** Counters: records skipped on load, registrations expired. */
  readonly stats = { invalidRecords: 0, expired: 0 };
  readonly #store: Store | undefined;
  readonly #clock: () => number;
  readonly #agents = new Map<string, AgentDescriptor>();
  readonly #logger: Logger | undefined;
  readonly #invalid: ReturnType<MetricsCollector['counter']> | undefined;
  readonly #expiredCounter: ReturnType<MetricsCollector['counter']> | undefined;

  constructor(options: DiscoveryServiceOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_DISCOVERY_TTL_MS;
    this.maxAgents = options.maxAgents ?? DEFAULT_DISCOVERY_MAX_AGENTS;
    if (!(this.ttlMs > 0)) throw new ValidationError('ttlMs must be positive');
    if (!Number.isSafeInteger(this.maxAgents) || this.maxAgents < 1) throw new ValidationError('maxAgents must be a positive integer');
    this.#store = options.store;
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger;
    this.#invalid = options.metrics?.counter('converge_discovery_invalid_records_total', 'Stored discovery records skipped on load', []);
    this.#expiredCounter = options.metrics?.counter('converge_discovery_expired_total', 'Discovery registrations expired', []);
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

  /** Registers (or replaces) an agent; `lastSeen` is set to now. Returns the stored descriptor. */
  async register(descriptor: AgentDescriptorInit): Promise<AgentDescriptor> {
    const d = createDescriptor({ ...descriptor, lastSeen: this.#clock() });
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
    const wanted = [
      ...topics.map((t) => (d: AgentDescriptor) =>
        typeof t === 'string' ? d.topics.some((x) => x.namespace === t) : d.topics.some((x) => topicToString(x) === topicToString(t))),
      ...caps.map((c) => (d: AgentDescriptor) => d.capabilities.some((x) => x.name === c)),
    ];
    const out: AgentDescriptor[] = [];
    for (const d of this.#agents.values()) {
      const ok = wanted.length === 0 || (matchAll ? wanted.every((w) => w(d)) : wanted.some((w) => w(d)));
      if (ok) out.push(cloneDescriptor(d));
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
    await this.#store.put(DISCOVERY_EXTRA_PREFIX + d.id, { endpoints: d.endpoints, metadata: d.metadata, last_seen: d.lastSeen });
  }
}
