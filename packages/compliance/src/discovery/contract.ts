import type { Identity, Topic, WireRecord } from '@converge/core';

/** A registered agent as the suite reads it (`@converge/network`'s `AgentDescriptor` fits). */
export interface DescriptorUnderTest {
  /** The agent's id (its key's fingerprint). */
  id: string;
  /** Topics the agent listens to. */
  topics: Topic[];
  /** What the agent can do. */
  capabilities: { name: string }[];
  /** Where the agent can be reached. */
  endpoints: string[];
  /** Free-form plain data. */
  metadata: WireRecord;
  /** Unix ms of the last registration or refresh. */
  lastSeen: number;
}

/** What the suite registers: the agent's signing `Identity` as `publicKey` (register signs with it). */
export interface RegistrationUnderTest {
  /** The agent's id; the suite gives a forged one (another key's fingerprint) to test refusal. */
  id: string;
  /** The identity; when it can sign, register signs with it. The descriptor must be signed by the key whose fingerprint is `id`. */
  publicKey: Identity;
  /** Topics. */
  topics: Topic[];
  /** Capabilities by name. */
  capabilities: { name: string }[];
  /** Endpoints. */
  endpoints: string[];
  /** Plain-data metadata. */
  metadata: WireRecord;
}

/** A discovery query (`@converge/network`'s `DiscoveryQuery` without `minTrust`). */
export interface DiscoveryQueryUnderTest {
  /** Topic namespaces (strings) or exact topics. */
  topics?: (string | Topic)[];
  /** Capability names. */
  capabilities?: string[];
  /** `all` (default) or `any`. */
  match?: 'all' | 'any';
}

/**
 * What the suite needs of a discovery service: `@converge/network`'s `DiscoveryService`
 * contract, stated structurally (this package depends on core only). Registrations are
 * self-certifying and expire `ttlMs` after their last register or refresh.
 */
export interface DiscoveryUnderTest {
  /** Loads persisted registrations, if any. */
  start?(): Promise<void>;
  /** Releases resources, if any. */
  stop?(): Promise<void>;
  /** Registers or replaces; refuses a descriptor not signed by its id's key (`SignatureError`, or `KeyError` for a key that is not the id's). */
  register(registration: RegistrationUnderTest): Promise<DescriptorUnderTest>;
  /** Extends a registration; `NotFoundError` when unknown or expired. */
  refresh(id: string): Promise<void>;
  /** Removes; whether it was registered. */
  unregister(id: string): Promise<boolean>;
  /** A copy of the live registration, or `undefined`. */
  get(id: string): Promise<DescriptorUnderTest | undefined>;
  /** Copies of the live registrations that match, in registration order. */
  query(query?: DiscoveryQueryUnderTest): Promise<DescriptorUnderTest[]>;
}
