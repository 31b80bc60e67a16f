/**
 * @converge/network: the in-process transport, identity registry, signature and replay
 * verification (optionally on worker threads), replay defence, discovery and the AgentNetwork
 * facade. The `Transport` contract is `@converge/core`'s; the network transports are plugins
 * (`@converge/transport-tcp`, `@converge/transport-websocket`, `@converge/transport-nats`), and
 * what they share (framing, queues, backoff) is on the `@converge/network/internal` subpath.
 * @packageDocumentation
 */
// The contract moved to core; re-exported as types so existing `import type` sites keep working.
export { LOCAL_HUB_BRAND, LocalHub, LocalTransport, isLocalHub, type LocalHubOptions, type LocalHubStats, type LocalTransportOptions } from './local.js';
export { messageSizeBound } from './local-size.js';
export { IDENTITY_REGISTRY_BRAND, IdentityRegistry, DEFAULT_REGISTRY_MAX_ENTRIES, isIdentityRegistry, type IdentityRegistryOptions } from './registry.js';
export {
  ReplayCache,
  DEFAULT_REPLAY_IDS_PER_SENDER,
  DEFAULT_REPLAY_CACHE_BYTES,
  REPLAY_ENTRY_OVERHEAD_BYTES,
  REPLAY_PARTITION_OVERHEAD_BYTES,
  replayEntryBytes,
  type ReplayCacheOptions,
} from './replay.js';
export { ReplayStateStore, REPLAY_STORE_PREFIX } from './replay-store.js';
export {
  MessageVerifier,
  receiveVerified,
  defaultVerifierFor,
  DEFAULT_SKEW_MS,
  DEFAULT_VERIFY_BATCH,
  REJECTION_REASONS,
  VERIFY_DURATION_BUCKETS,
  type CheckResult,
  type MessageVerifierOptions,
  type ReceiveVerifiedOptions,
  type RejectionReason,
} from './verify.js';
export { VerifierPool, DEFAULT_POOL_MAX_PENDING, type VerifierPoolOptions } from './verify-pool.js';
export {
  createDescriptor,
  cloneDescriptor,
  descriptorToDict,
  descriptorFromDict,
  type AgentDescriptor,
  type AgentDescriptorInit,
  type AgentDescriptorDict,
  type CapabilityDict,
  type DescriptorCapability,
  type TopicDict,
} from './discovery-descriptor.js';
export { signDescriptor, verifyDescriptor, descriptorSigningBytes, DESCRIPTOR_SIGNATURE_DOMAIN } from './discovery-signature.js';
export {
  DiscoveryService,
  DEFAULT_DISCOVERY_TTL_MS,
  DEFAULT_DISCOVERY_MAX_AGENTS,
  DISCOVERY_AGENT_PREFIX,
  DISCOVERY_EXTRA_PREFIX,
  type DiscoveryQuery,
  type DiscoveryServiceOptions,
  type TrustSource,
} from './discovery.js';
export { AgentNetwork, descriptorOfAgent, type AgentNetworkOptions } from './agent-network.js';

export { TCP_TOPIC_NAMESPACE, tcpAddressOf, type TcpAddress } from './endpoint-topic.js';
