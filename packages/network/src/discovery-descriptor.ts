import {
  Identity,
  KeyError,
  ValidationError,
  isIdentity,
  base64ToBytes,
  bytesToBase64,
  cloneWireValue,
  createTopic,
  fingerprintOf,
  type Capability,
  type Topic,
  type TopicAttributes,
  type WireRecord,
} from '@converge/core';

/** A capability as a descriptor lists it: a `Capability` plus its typical latency. */
export interface DescriptorCapability extends Capability {
  /** Typical latency in ms (`latency_ms` in the reference form; default 0). */
  latencyMs: number;
}

/**
 * What discovery knows about an agent. `id`, `publicKey`, `topics` and `capabilities` are the
 * reference's `AgentDescriptor`; `endpoints`, `metadata` and `lastSeen` are ours.
 */
export interface AgentDescriptor {
  /** The agent's id: the fingerprint of `publicKey` when there is one. */
  id: string;
  /** Raw 32-byte Ed25519 public key, if known. */
  publicKey?: Uint8Array;
  /** Topics the agent listens to. */
  topics: Topic[];
  /** What the agent can do. */
  capabilities: DescriptorCapability[];
  /** Where the agent can be reached (e.g. `tcp://host:port`, `ws://...`). */
  endpoints: string[];
  /** Free-form plain data. */
  metadata: WireRecord;
  /** Unix ms of the last registration or refresh. */
  lastSeen: number;
  /**
   * Ed25519 signature by `publicKey` over `descriptorSigningBytes` (everything above but
   * `lastSeen`): what makes the descriptor self-certifying. See `signDescriptor`.
   */
  signature?: Uint8Array;
  /** Unix ms at which the agent signed it; a registration never goes back to an older one. */
  issuedAt?: number;
}

/**
 * Fields accepted by `createDescriptor`; everything but `id` has a default. `publicKey` may
 * be the agent's `Identity`: `DiscoveryService.register` then signs the descriptor with it.
 */
export type AgentDescriptorInit = Partial<Omit<AgentDescriptor, 'capabilities' | 'publicKey'>> & {
  id: string;
  publicKey?: Uint8Array | Identity;
  capabilities?: (Partial<DescriptorCapability> & { name: string })[];
};

/** A topic in dict form: `{namespace, attributes, version}`. */
export interface TopicDict {
  namespace: string;
  attributes: TopicAttributes;
  version: string;
}

/** A capability in the reference's dict form. */
export interface CapabilityDict {
  name: string;
  version: string;
  description: string;
  constraints: WireRecord;
  costs: WireRecord;
  latency_ms: number;
}

/** The reference's `AgentDescriptor.to_dict()` form (`public_key` absent when unknown). */
export interface AgentDescriptorDict {
  id: string;
  topics: TopicDict[];
  capabilities: CapabilityDict[];
  public_key?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Map);
}

/**
 * A normalised descriptor (copied inputs, defaults filled). Throws `ValidationError` for
 * missing fields and `KeyError` when `publicKey` is not 32 bytes or `id` is not its fingerprint.
 */
export function createDescriptor(init: AgentDescriptorInit): AgentDescriptor {
  if (!init || typeof init.id !== 'string' || init.id === '') throw new ValidationError('a descriptor needs a non-empty string id');
  let publicKey: Uint8Array | undefined;
  if (init.publicKey !== undefined) {
    const k = isIdentity(init.publicKey) ? init.publicKey.publicKey : init.publicKey;
    if (!(k instanceof Uint8Array) || k.byteLength !== 32) throw new KeyError('descriptor publicKey must be 32 bytes');
    if (fingerprintOf(k) !== init.id) throw new KeyError(`descriptor id ${init.id.slice(0, 16)} is not the fingerprint of its public key`);
    publicKey = new Uint8Array(k);
  }
  const topics = (init.topics ?? []).map((t) => {
    if (!t || typeof t.namespace !== 'string') throw new ValidationError('descriptor topics need a string namespace');
    return createTopic(t.namespace, cloneWireValue(t.attributes ?? {}), t.version ?? '1.0');
  });
  const capabilities = (init.capabilities ?? []).map((c) => {
    if (!c || typeof c.name !== 'string') throw new ValidationError('descriptor capabilities need a string name');
    const latency = c.latencyMs ?? 0;
    if (!Number.isSafeInteger(latency) || latency < 0) throw new ValidationError('latencyMs must be a non-negative integer');
    return {
      name: c.name,
      version: c.version ?? '1.0',
      description: c.description ?? '',
      constraints: cloneWireValue(c.constraints ?? {}),
      costs: cloneWireValue(c.costs ?? {}),
      latencyMs: latency,
    };
  });
  const endpoints = [...(init.endpoints ?? [])];
  if (!endpoints.every((e) => typeof e === 'string')) throw new ValidationError('endpoints must be strings');
  if (init.metadata !== undefined && !isRecord(init.metadata)) throw new ValidationError('metadata must be a plain object');
  const lastSeen = init.lastSeen ?? 0;
  if (!Number.isSafeInteger(lastSeen)) throw new ValidationError('lastSeen must be an integer (Unix ms)');
  const d: AgentDescriptor = { id: init.id, publicKey, topics, capabilities, endpoints, metadata: cloneWireValue(init.metadata ?? {}), lastSeen };
  if (init.signature !== undefined) {
    if (!(init.signature instanceof Uint8Array) || init.signature.byteLength !== 64) throw new KeyError('descriptor signature must be 64 bytes');
    d.signature = new Uint8Array(init.signature);
  }
  if (init.issuedAt !== undefined) {
    if (!Number.isSafeInteger(init.issuedAt)) throw new ValidationError('issuedAt must be an integer (Unix ms)');
    d.issuedAt = init.issuedAt;
  }
  return d;
}

/** A deep copy of a descriptor. */
export function cloneDescriptor(d: AgentDescriptor): AgentDescriptor {
  return createDescriptor(d);
}

/**
 * The reference's `AgentDescriptor.to_dict()`: `{id, topics, capabilities, public_key}` in
 * that key order, `public_key` as padded standard base64 and left out when unknown. Our own
 * fields (`endpoints`, `metadata`, `lastSeen`) are not part of it.
 */
export function descriptorToDict(d: AgentDescriptor): AgentDescriptorDict {
  const out: AgentDescriptorDict = {
    id: d.id,
    topics: d.topics.map((t) => ({ namespace: t.namespace, attributes: cloneWireValue(t.attributes), version: t.version })),
    capabilities: d.capabilities.map((c) => ({
      name: c.name,
      version: c.version,
      description: c.description,
      constraints: cloneWireValue(c.constraints),
      costs: cloneWireValue(c.costs),
      latency_ms: c.latencyMs,
    })),
  };
  if (d.publicKey) out.public_key = bytesToBase64(d.publicKey);
  return out;
}

/** Reads the reference form (plus our extras, if given). Throws `ValidationError`/`KeyError` on bad input. */
export function descriptorFromDict(dict: unknown, extras: { endpoints?: string[]; metadata?: WireRecord; lastSeen?: number } = {}): AgentDescriptor {
  if (!isRecord(dict)) throw new ValidationError('a descriptor dict must be a map');
  const topics = dict.topics ?? [];
  const caps = dict.capabilities ?? [];
  if (!Array.isArray(topics) || !Array.isArray(caps)) throw new ValidationError('descriptor topics and capabilities must be lists');
  const pk = dict.public_key;
  if (pk !== undefined && pk !== null && typeof pk !== 'string') throw new ValidationError('public_key must be base64 text');
  return createDescriptor({
    id: dict.id as string,
    publicKey: typeof pk === 'string' ? base64ToBytes(pk) : undefined,
    topics: topics.map((t: unknown) => {
      if (!isRecord(t)) throw new ValidationError('a topic must be a map');
      return { namespace: t.namespace as string, attributes: (t.attributes ?? {}) as TopicAttributes, version: (t.version ?? '1.0') as string };
    }),
    capabilities: caps.map((c: unknown) => {
      if (!isRecord(c)) throw new ValidationError('a capability must be a map');
      return {
        name: c.name as string,
        version: c.version as string | undefined,
        description: c.description as string | undefined,
        constraints: c.constraints as WireRecord | undefined,
        costs: c.costs as WireRecord | undefined,
        latencyMs: typeof c.latency_ms === 'bigint' ? Number(c.latency_ms) : (c.latency_ms as number | undefined),
      };
    }),
    endpoints: extras.endpoints,
    metadata: extras.metadata,
    lastSeen: extras.lastSeen,
  });
}
