// Every case of ../shared/interop/vectors.json that the core applies to. Inputs are read
// from the file, never hard-coded: a held-out set made with another seed runs the same code.
import { expect, it } from 'vitest';
import {
  Identity,
  bytesToBase64,
  bytesToHex,
  hexToBytes,
  createMessage,
  decodeMessage,
  encodeMessage,
  encodeValue,
  signMessage,
  signingBytes,
  topicToString,
  verifyMessage,
  DecodeError,
  type Message,
  type Topic,
} from '@converge/core';
import { describeWithVectors, vectors, fromTyped } from './vectors.js';

/** `[name, case]` pairs for `it.each`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function cases(list: any[]): [string, any][] {
  return list.map((v) => [v.name, v]);
}

const identities = new Map<string, Identity>();
for (const v of vectors?.identities ?? []) identities.set(v.name, Identity.fromSecretKey(hexToBytes(v.seed)));

// A plain topic object, not `createTopic`: the reference escapes nothing, and one vector
// (`no_escaping_of_separators`) is a topic whose string form is ambiguous, which `createTopic`
// refuses; its string form is still reproduced byte for byte.
function toTopic(t: { namespace: string; attributes: unknown; version: string }): Topic {
  return { namespace: t.namespace, attributes: fromTyped(t.attributes), version: t.version };
}

function messageFromInput(input: Record<string, unknown>): Message {
  return createMessage({
    id: input.id as string,
    sender: input.sender as string,
    recipient: input.recipient as string | null,
    topics: (input.topics as never[]).map(toTopic),
    payload: fromTyped(input.payload),
    taskId: input.task_id as string | null,
    timestamp: fromTyped(input.timestamp),
  });
}

/** Compares a decoded message with the vector's `decoded` form. */
function expectDecoded(msg: Message, decoded: Record<string, unknown>) {
  expect(msg.id).toBe(decoded.id);
  expect(msg.sender).toBe(decoded.sender);
  expect(msg.recipient).toBe(decoded.recipient ?? null);
  expect(msg.taskId).toBe(decoded.task_id ?? null);
  expect(msg.timestamp).toBe(Number(fromTyped(decoded.timestamp)));
  expect(bytesToHex(msg.signature)).toBe(decoded.signature);
  expect(msg.topics.map(topicToString)).toEqual((decoded.topics as never[]).map((t) => topicToString(toTopic(t))));
  // Payload: compare by canonical encoding, which is what the wire and signatures see.
  expect(bytesToHex(encodeValue(msg.payload))).toBe(bytesToHex(encodeValue(plain(fromTyped(decoded.payload)))));
}

// The decoder returns plain numbers for floats; strip the markers before comparing encodings
// of decoded values (the raw payload bytes, which keep them, are compared separately).
function plain(v: unknown): unknown {
  if (v && typeof v === 'object' && 'value' in v && v.constructor?.name === 'Float64') return (v as { value: number }).value;
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, plain(x)]));
  if (v instanceof Uint8Array) return v;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describeWithVectors('identities', () => {
  it.each(cases(vectors.identities))('%s: public key, fingerprint, base64, 64-byte secret', (_n, v) => {
    for (const backend of ['node', 'noble'] as const) {
      const id = Identity.fromSecretKey(hexToBytes(v.seed), { backend });
      expect(bytesToHex(id.publicKey)).toBe(v.public_key);
      expect(id.fingerprint).toBe(v.fingerprint);
      expect(bytesToBase64(id.publicKey)).toBe(v.public_key_b64);
      expect(Identity.fromSecretKey(hexToBytes(v.secret_key_64), { backend }).fingerprint).toBe(v.fingerprint);
      expect(Identity.fromSecretKey(hexToBytes(v.private_key), { backend }).fingerprint).toBe(v.fingerprint);
    }
  });
});

describeWithVectors('raw Ed25519 signatures', () => {
  it.each(cases(vectors.ed25519_signatures))('%s: both backends sign identically and verify', (_n, v) => {
    const data = hexToBytes(v.data);
    for (const backend of ['node', 'noble'] as const) {
      const id = Identity.fromSecretKey(identities.get(v.signer)!.secretKey!, { backend });
      expect(bytesToHex(id.sign(data))).toBe(v.signature);
      expect(id.verify(hexToBytes(v.signature), data)).toBe(true);
    }
  });
});

describeWithVectors('topic strings and dict encoding', () => {
  it.each(cases(vectors.topics))('%s', (_n, v) => {
    const topic = toTopic(v.input);
    expect(topicToString(topic)).toBe(v.string);
    const dict = toTopic(v.dict);
    expect(bytesToHex(encodeValue({ namespace: dict.namespace, attributes: dict.attributes, version: dict.version }))).toBe(v.dict_msgpack);
  });
});

describeWithVectors('messages: signing bytes, signature, encoding, decoding', () => {
  it.each(cases(vectors.messages))('%s', (_n, v) => {
    const msg = messageFromInput(v.input);
    expect(bytesToHex(signingBytes(msg))).toBe(v.signing_bytes);
    let signed = msg;
    if (v.signer) {
      signed = signMessage(msg, identities.get(v.signer)!);
      expect(signed.sender).toBe(v.input.sender);
      expect(bytesToHex(signed.signature)).toBe(v.signature);
    }
    expect(bytesToHex(encodeMessage(signed))).toBe(v.encoded);

    const decoded = decodeMessage(hexToBytes(v.encoded));
    expectDecoded(decoded, v.decoded);
    // A decoded message re-encodes byte for byte and its raw payload survives.
    expect(bytesToHex(encodeMessage(decoded))).toBe(v.encoded);
    expect(bytesToHex(signingBytes(decoded))).toBe(v.signing_bytes);
    const key = identities.get(v.signer ?? v.verify_with)!.publicKey;
    expect(verifyMessage(decoded, key)).toBe(v.verify);
  });
});

describeWithVectors('verification negatives', () => {
  it.each(cases(vectors.verification_negatives))('%s', (_n, v) => {
    let msg: Message;
    try {
      msg = decodeMessage(hexToBytes(v.encoded));
    } catch (err) {
      // A decoder that checks lengths may refuse a 63-byte signature outright.
      expect(err).toBeInstanceOf(DecodeError);
      expect(v.verify).toBe(false);
      return;
    }
    expect(verifyMessage(msg, hexToBytes(v.public_key))).toBe(v.verify);
    if (v.signing_bytes) expect(bytesToHex(signingBytes(msg))).toBe(v.signing_bytes);
  });
});

describeWithVectors('decoding other encoders', () => {
  it.each(cases(vectors.decode))('%s', (_n, v) => {
    const bytes = hexToBytes(v.bytes);
    if (!v.ok) {
      expect(() => decodeMessage(bytes)).toThrow(DecodeError);
      return;
    }
    const msg = decodeMessage(bytes);
    expectDecoded(msg, v.decoded);
    if (v.verify !== undefined) expect(verifyMessage(msg, identities.get(v.verify_with)!.publicKey)).toBe(v.verify);
  });
});

describeWithVectors('quirks of the reference', () => {
  it.each(cases(vectors.quirks))('%s: we sign the sender we send', (_n, v) => {
    const signer = identities.get(v.signer)!;
    const encoded = decodeMessage(hexToBytes(v.encoded));
    // The reference's message carries the signer's fingerprint but a signature over another
    // sender, so it cannot verify; ours, signed after setting the sender, does.
    expect(verifyMessage(encoded, signer.publicKey)).toBe(false);
    const ours = signMessage(createMessage({ ...encoded, sender: v.input_sender, signature: undefined }), signer);
    expect(ours.sender).toBe(signer.fingerprint);
    expect(verifyMessage(ours, signer.publicKey)).toBe(true);
  });
});

describeWithVectors('descriptor public keys', () => {
  it('public_key is standard base64 of the raw key', () => {
    for (const d of vectors.descriptors.vectors) {
      if (!d.dict?.public_key) continue;
      const id = [...identities.values()].find((i) => bytesToBase64(i.publicKey) === d.dict.public_key);
      expect(id, `descriptor ${d.name ?? d.dict.id} names a known identity`).toBeDefined();
    }
  });
});
