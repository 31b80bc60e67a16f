/**
 * Self-certifying discovery descriptors. An agent's id is the fingerprint of its public key,
 * so a descriptor signed by that key proves it was made by the agent itself: nobody else can
 * advertise endpoints, topics or capabilities under its id, or drop its key. The signature and
 * its time travel beside the reference's stored dict (`discovery:ext:<id>`), which the
 * reference ignores, so the stored `AgentDescriptor.to_dict()` form is unchanged.
 */
import { Identity, KeyError, encodeValue } from '@converge/core';
import { createDescriptor, descriptorToDict, type AgentDescriptor, type AgentDescriptorInit } from './discovery-descriptor.js';

/** Domain tag of the signed bytes, so a descriptor signature can never pass for a message's. */
export const DESCRIPTOR_SIGNATURE_DOMAIN = 'converge.discovery.descriptor/1';

/**
 * The bytes a descriptor's signature covers: the msgpack array `[domain, to_dict() form,
 * endpoints, metadata, issuedAt]`. `lastSeen` is local bookkeeping and is not covered.
 */
export function descriptorSigningBytes(d: AgentDescriptor): Uint8Array {
  return encodeValue([DESCRIPTOR_SIGNATURE_DOMAIN, descriptorToDict(d), d.endpoints, d.metadata, d.issuedAt ?? 0]);
}

/**
 * The descriptor signed by `identity` (which must hold the secret key whose fingerprint is
 * `init.id`) at `issuedAt` (default now). Throws `KeyError` for another agent's id or a
 * verify-only identity.
 */
export function signDescriptor(init: AgentDescriptorInit, identity: Identity, issuedAt = Date.now()): AgentDescriptor {
  if (!identity.canSign) throw new KeyError('signing a descriptor needs an identity with a secret key');
  if (identity.fingerprint !== init.id) throw new KeyError(`descriptor id ${String(init.id).slice(0, 16)} is not the signer's fingerprint`);
  const d = createDescriptor({ ...init, publicKey: identity.publicKey, signature: undefined, issuedAt });
  d.signature = identity.sign(descriptorSigningBytes(d));
  return d;
}

/**
 * Whether `d` is self-certifying: it carries its public key (whose fingerprint is its id, as
 * `createDescriptor` checks) and a valid signature by that key over `descriptorSigningBytes`.
 * Never throws.
 */
export function verifyDescriptor(d: AgentDescriptor): boolean {
  try {
    if (!d.publicKey || !d.signature || d.signature.byteLength !== 64 || d.issuedAt === undefined) return false;
    const key = Identity.fromPublicKey(d.publicKey);
    return key.fingerprint === d.id && key.verify(d.signature, descriptorSigningBytes(d));
  } catch {
    return false;
  }
}
