import { Agent, NotFoundError, isAgent, ValidationError, type Message } from '@converge/core';
import { createDescriptor, type AgentDescriptor, type AgentDescriptorInit } from './discovery-descriptor.js';
import { signDescriptor } from './discovery-signature.js';
import type { DiscoveryQuery, DiscoveryService } from './discovery.js';
import type { IdentityRegistry } from './registry.js';
import type { SendOptions, Transport } from '@converge/core';

/** Options of `AgentNetwork`. */
export interface AgentNetworkOptions {
  /** Where registered agents are advertised and looked up. */
  discovery?: DiscoveryService;
  /** Where registered agents' public keys go, so their messages verify. */
  registry?: IdentityRegistry;
}

/**
 * The descriptor an `Agent` advertises: its id, key, topics and capabilities (plus `extra`,
 * e.g. endpoints), signed with the agent's identity so that discovery accepts it.
 */
export function descriptorOfAgent(agent: Agent, extra: Partial<AgentDescriptorInit> = {}): AgentDescriptor {
  return signDescriptor(
    {
      ...extra,
      id: agent.id,
      topics: agent.topics,
      capabilities: [...agent.capabilities].map((c) => ({ ...c, latencyMs: 0 })),
    },
    agent.identity,
  );
}

/**
 * A transport together with the agents' directory: registering an agent advertises it in
 * discovery and trusts its key in the registry; `send`, `broadcast` and `discover` go through.
 * The network does not own the transport or discovery: start and stop them yourself.
 */
export class AgentNetwork {
  /** The transport messages go through. */
  readonly transport: Transport;
  /** Discovery, if configured. */
  readonly discovery: DiscoveryService | undefined;
  /** Identity registry, if configured. */
  readonly registry: IdentityRegistry | undefined;
  readonly #registered = new Set<string>();

  constructor(transport: Transport, options: AgentNetworkOptions = {}) {
    this.transport = transport;
    this.discovery = options.discovery;
    this.registry = options.registry;
  }

  /** Ids registered through this network. */
  agents(): string[] {
    return [...this.#registered];
  }

  /**
   * Registers an agent (or a descriptor, which discovery accepts only signed by its own key:
   * see `signDescriptor`): advertised in discovery, then its key added to the registry.
   */
  async registerAgent(agent: Agent | AgentDescriptorInit): Promise<AgentDescriptor> {
    const d = isAgent(agent) ? descriptorOfAgent(agent) : createDescriptor(agent);
    const stored = this.discovery ? await this.discovery.register(isAgent(agent) ? d : agent) : d;
    if (this.registry && stored.publicKey) this.registry.registerAs(stored.id, stored.publicKey);
    this.#registered.add(d.id);
    return stored;
  }

  /** Removes an agent from discovery and the registry; returns whether it was registered here. */
  async unregisterAgent(id: string): Promise<boolean> {
    const had = this.#registered.delete(id);
    if (this.discovery) await this.discovery.unregister(id);
    this.registry?.remove(id);
    return had;
  }

  /** Sends a (signed) message through the transport. */
  send(message: Message, options?: SendOptions): Promise<void> {
    return this.transport.send(message, options);
  }

  /**
   * Sends a message to everyone (topic subscribers, else all agents): `recipient` must be
   * null; a message with a recipient is refused rather than silently redirected.
   */
  broadcast(message: Message, options?: SendOptions): Promise<void> {
    if (message.recipient !== null) {
      return Promise.reject(new ValidationError('broadcast needs a message without a recipient (sign it with recipient: null)'));
    }
    return this.transport.send(message, options);
  }

  /** Agents matching `query`; throws `NotFoundError` when no discovery is configured. */
  async discover(query: DiscoveryQuery = {}): Promise<AgentDescriptor[]> {
    if (!this.discovery) throw new NotFoundError('this AgentNetwork has no DiscoveryService');
    return this.discovery.query(query);
  }
}
