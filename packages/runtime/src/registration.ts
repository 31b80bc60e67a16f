import type { Agent, WireRecord } from '@converge/core';
import type { DiscoveryPort } from './service-ports.js';

/** What `DiscoveryRegistration` registers with. */
export interface DiscoveryRegistrationOptions {
  /** The discovery service (nothing is registered without it). */
  discovery?: DiscoveryPort;
  /** Endpoints advertised. */
  endpoints?: string[];
  /** Metadata advertised (plain data). */
  metadata?: WireRecord;
}

/** The agent's registration in discovery: made at start, refreshed on a timer, removed at stop. */
export class DiscoveryRegistration {
  readonly #agent: Agent;
  readonly #o: DiscoveryRegistrationOptions;
  #registered = false;

  /** @param agent - the agent whose descriptor is registered (signed with its identity). */
  constructor(agent: Agent, options: DiscoveryRegistrationOptions) {
    this.#agent = agent;
    this.#o = options;
  }

  /** Whether the agent is registered in discovery now. */
  get registered(): boolean {
    return this.#registered;
  }

  /** Registers the agent (no-op without discovery). */
  async register(): Promise<void> {
    const d = this.#o.discovery;
    if (!d) return;
    await d.register({
      id: this.#agent.id,
      publicKey: this.#agent.identity, // discovery signs the descriptor with it (self-certifying)
      topics: this.#agent.topics,
      capabilities: this.#agent.capabilities.toJSON(),
      endpoints: this.#o.endpoints ?? [],
      ...(this.#o.metadata ? { metadata: this.#o.metadata } : {}),
    });
    this.#registered = true;
  }

  /** Renews the registration (re-registers if it expired meanwhile). */
  async refresh(): Promise<void> {
    const d = this.#o.discovery;
    if (!d || !this.#registered) return;
    try {
      if (d.refresh) {
        await d.refresh(this.#agent.id);
        return;
      }
    } catch {
      // Expired or lost (e.g. a discovery restart): register afresh below.
    }
    await this.register();
  }

  /** Removes the registration, if any. */
  async unregister(): Promise<void> {
    if (this.#registered) await this.#o.discovery?.unregister(this.#agent.id);
    this.#registered = false;
  }
}
