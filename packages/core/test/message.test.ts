import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DecodeError,
  EncodeError,
  Float64,
  Identity,
  KeyError,
  ValidationError,
  bytesEqual,
  bytesToHex,
  createMessage,
  createTopic,
  decodeMessage,
  encodeMessage,
  encodeValue,
  rawPayloadOf,
  signMessage,
  signingBytes,
  topicToString,
  verifyMessage,
  decodeValue,
  type Message,
  type Topic,
  type TopicAttributes,
  type WireValue,
} from '@converge/core';
import { messageInit, normal } from './arbitraries.js';

/** A topic object as is, without createTopic's checks (for encoder tests). */
function rawTopic(namespace: string, attributes: TopicAttributes, version = '1.0'): Topic {
  return { namespace, attributes, version };
}

const alice = Identity.fromSecretKey(new Uint8Array(32).fill(7));
const bob = Identity.fromSecretKey(new Uint8Array(32).fill(9));

// The envelope written with the general codec, key by key: what the dedicated writer must equal.
function encodedByCodec(m: Message): Uint8Array {
  return encodeValue({
    id: m.id,
    sender: m.sender,
    recipient: m.recipient,
    topics: m.topics.map((t) => ({ namespace: t.namespace, attributes: t.attributes, version: t.version })),
    payload: m.payload,
    task_id: m.taskId,
    timestamp: m.timestamp,
    signature: m.signature,
  });
}
function signedByCodec(m: Message): Uint8Array {
  return encodeValue({
    id: m.id,
    sender: m.sender,
    recipient: m.recipient,
    topics: m.topics.map(topicToString),
    payload: m.payload,
    task_id: m.taskId,
    timestamp: m.timestamp,
  });
}

describe('createMessage', () => {
  it('fills defaults: uuid v4 id, empty sender, null recipient and task, {} payload, now, no signature', () => {
    const before = Date.now();
    const m = createMessage();
    expect(m.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(m.sender).toBe('');
    expect(m.recipient).toBeNull();
    expect(m.taskId).toBeNull();
    expect(m.payload).toEqual({});
    expect(m.topics).toEqual([]);
    expect(m.signature.byteLength).toBe(0);
    expect(m.timestamp).toBeGreaterThanOrEqual(before);
    expect(m.timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('returns a frozen message with a frozen copy of the topics array', () => {
    const topics = [createTopic('a')];
    const m = createMessage({ topics });
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m.topics)).toBe(true);
    topics.push(createTopic('b'));
    expect(m.topics).toHaveLength(1);
  });

  it('is a plain object: plain prototype, exactly the eight fields, equal to its literal form', () => {
    const m = signMessage(createMessage({ id: 'i', timestamp: 1, payload: { a: 1 } }), alice);
    encodeMessage(m); // the kept payload encoding must stay invisible
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(Object.keys(m)).toEqual(['id', 'sender', 'recipient', 'topics', 'payload', 'taskId', 'timestamp', 'signature']);
    expect(Object.getOwnPropertySymbols(m)).toEqual([]);
    expect(m).toStrictEqual({
      id: 'i',
      sender: alice.fingerprint,
      recipient: null,
      topics: [],
      payload: { a: 1 },
      taskId: null,
      timestamp: 1,
      signature: m.signature,
    });
    expect(decodeMessage(encodeMessage(m))).toStrictEqual(m);
  });

  it('a spread copy with another payload is encoded and signed with that payload, not the kept one', () => {
    const m = signMessage(createMessage({ payload: 'old' }), alice);
    encodeMessage(m);
    const copy = { ...m, payload: 'new' };
    expect(decodeMessage(encodeMessage(copy)).payload).toBe('new');
    expect(verifyMessage(copy, alice.publicKey)).toBe(false);
    expect(verifyMessage(signMessage(copy, alice), alice.publicKey)).toBe(true);
  });

  it('refuses a non-integer timestamp and a signature that is not 0 or 64 bytes', () => {
    expect(() => createMessage({ timestamp: 1.5 })).toThrow(ValidationError);
    expect(() => createMessage({ timestamp: 2 ** 60 })).toThrow(ValidationError);
    expect(() => createMessage({ signature: new Uint8Array(63) })).toThrow(ValidationError);
    expect(createMessage({ signature: new Uint8Array(64) }).signature.byteLength).toBe(64);
  });
});

describe('signMessage and verifyMessage', () => {
  it('sets the sender to the fingerprint before signing, and the signature verifies', () => {
    const m = signMessage(createMessage({ sender: 'someone else', payload: { a: 1 } }), alice);
    expect(m.sender).toBe(alice.fingerprint);
    expect(m.signature.byteLength).toBe(64);
    expect(verifyMessage(m, alice.publicKey)).toBe(true);
    expect(verifyMessage(m, alice)).toBe(true);
    expect(verifyMessage(m, bob.publicKey)).toBe(false);
  });

  it('signs exactly the signed bytes with Ed25519', () => {
    const m = signMessage(createMessage({ payload: 'x' }), alice);
    expect(bytesToHex(alice.sign(signingBytes(m)))).toBe(bytesToHex(m.signature));
  });

  it('refuses a verify-only identity with KeyError', () => {
    expect(() => signMessage(createMessage(), Identity.fromPublicKey(alice.publicKey))).toThrow(KeyError);
  });

  it('returns false, never throws, for a 31-byte key, a 63-byte signature, or a non-key', () => {
    const m = signMessage(createMessage({ payload: [1, 2] }), alice);
    expect(verifyMessage(m, alice.publicKey.subarray(0, 31))).toBe(false);
    expect(verifyMessage({ ...m, signature: m.signature.subarray(0, 63) }, alice.publicKey)).toBe(false);
    expect(verifyMessage(m, null as never)).toBe(false);
    expect(verifyMessage(m, 'key' as never)).toBe(false);
    expect(verifyMessage({ ...m, topics: null } as never, alice.publicKey)).toBe(false);
  });

  it('detects any change to a signed field', () => {
    const m = signMessage(createMessage({ recipient: bob.fingerprint, payload: { n: 1 }, taskId: 't', topics: [createTopic('x', { k: 1 })] }), alice);
    const changed: Partial<Message>[] = [
      { id: m.id + '0' },
      { recipient: alice.fingerprint },
      { payload: { n: 2 } },
      { taskId: 'u' },
      { timestamp: m.timestamp + 1 },
      { topics: [createTopic('x', { k: 2 })] },
      { sender: bob.fingerprint },
    ];
    for (const c of changed) expect(verifyMessage(createMessage({ ...m, ...c }), alice.publicKey)).toBe(false);
  });

  it('signs and sends one payload encoding: later mutation of the payload object changes neither', () => {
    const payload = { n: 1 };
    const signed = signMessage(createMessage({ payload }), alice);
    const wire = encodeMessage(signed);
    payload.n = 2;
    expect(bytesToHex(encodeMessage(signed))).toBe(bytesToHex(wire));
    expect(verifyMessage(signed, alice.publicKey)).toBe(true);
    expect(decodeMessage(wire).payload).toEqual({ n: 1 });
  });
});

describe('encodeMessage and signingBytes', () => {
  it('equal the general codec applied to the same fields, for arbitrary messages', () => {
    fc.assert(
      fc.property(messageInit, fc.boolean(), (init, sign) => {
        const m = sign ? signMessage(createMessage(init), alice) : createMessage(init);
        expect(bytesToHex(encodeMessage(m))).toBe(bytesToHex(encodedByCodec(m)));
        expect(bytesToHex(signingBytes(m))).toBe(bytesToHex(signedByCodec(m)));
      }),
      { numRuns: 300 },
    );
  });

  it('write every string width where it changes (fixstr, str8, str16, str32) as the codec does', () => {
    for (const n of [0, 1, 24, 25, 31, 32, 255, 256, 65535, 65536]) {
      for (const unit of ['a', 'é', '€', '😀']) {
        const s = unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
        // Plain objects: the encoder must reproduce any id and topic, even ones that
        // createMessage (id over 128 bytes) and createTopic (ambiguous form) refuse.
        const m = { ...createMessage({ sender: s, recipient: s, taskId: s, payload: null }), id: s, topics: [rawTopic(s, { [s]: s }, s)] };
        expect(bytesEqual(encodeMessage(m), encodedByCodec(m))).toBe(true);
        expect(bytesEqual(signingBytes(m), signedByCodec(m))).toBe(true);
      }
    }
  });

  it('write every timestamp width (fixint to uint64, negative forms) as the codec does', () => {
    for (const t of [
      0,
      127,
      128,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      2 ** 32,
      Number.MAX_SAFE_INTEGER,
      -1,
      -32,
      -33,
      -128,
      -129,
      -32768,
      -32769,
      -(2 ** 31),
      -(2 ** 31) - 1,
      Number.MIN_SAFE_INTEGER,
    ]) {
      const m = createMessage({ timestamp: t });
      expect(bytesToHex(encodeMessage(m))).toBe(bytesToHex(encodedByCodec(m)));
      expect(decodeMessage(encodeMessage(m)).timestamp).toBe(t);
    }
  });

  it('write attribute floats, NaN, bigints, bytes and nested values as the codec does', () => {
    const attrs = {
      f: new Float64(2),
      nan: new Float64(NaN),
      inf: -Infinity,
      half: 0.5,
      big: 2n ** 63n,
      neg: -(2n ** 63n),
      small: 5n,
      b: new Uint8Array([1, 2]),
      nested: [1, { a: null }],
    };
    const m = createMessage({
      topics: [
        rawTopic('t', attrs as never),
        createTopic(
          'm',
          new Map<string, number | boolean>([
            ['2', 1],
            ['10', true],
          ]),
        ),
      ],
    });
    expect(bytesToHex(encodeMessage(m))).toBe(bytesToHex(encodedByCodec(m)));
  });

  it('refuse unencodable payloads and attributes with EncodeError', () => {
    expect(() => encodeMessage(createMessage({ payload: { f: (() => 1) as never } }))).toThrow(EncodeError);
    expect(() => signMessage(createMessage({ payload: new Date() as never }), alice)).toThrow(EncodeError);
    expect(() => signingBytes(createMessage({ payload: { x: 2n ** 64n } }))).toThrow(EncodeError);
    expect(() => encodeMessage(createMessage({ topics: [rawTopic('t', { x: new Date() as never })] }))).toThrow(EncodeError);
    expect(() => encodeMessage(createMessage({ topics: [rawTopic('t', new Map([[1 as never, 1]]))] }))).toThrow(EncodeError);
    expect(() => encodeMessage({ ...createMessage(), topics: undefined } as never)).toThrow(EncodeError);
  });

  it('stay correct when a payload getter encodes another message while the envelope is written', () => {
    const inner = createMessage({ payload: 'inner' });
    const payload = {};
    Object.defineProperty(payload, 'x', { enumerable: true, get: () => bytesToHex(encodeMessage(inner)) });
    const outer = createMessage({ payload });
    const encoded = encodeMessage(outer);
    expect(decodeMessage(encoded).payload).toEqual({ x: bytesToHex(encodeMessage(inner)) });
    expect(bytesEqual(encodeMessage(outer), encoded)).toBe(true);
  });

  it('return independent arrays: a later encoding never overwrites an earlier result', () => {
    const a = encodeMessage(createMessage({ payload: 'a' }));
    const copy = new Uint8Array(a);
    encodeMessage(createMessage({ payload: 'b'.repeat(5000) }));
    signingBytes(createMessage({ payload: 'c' }));
    expect(bytesEqual(a, copy)).toBe(true);
  });
});

describe('decodeMessage', () => {
  it('round-trips arbitrary signed messages: same fields, same bytes, still verifies', () => {
    fc.assert(
      fc.property(messageInit, (init) => {
        const signed = signMessage(createMessage(init), alice);
        const bytes = encodeMessage(signed);
        const d = decodeMessage(bytes);
        expect(Object.isFrozen(d)).toBe(true);
        expect([d.id, d.sender, d.recipient, d.taskId, d.timestamp]).toEqual([signed.id, signed.sender, signed.recipient, signed.taskId, signed.timestamp]);
        expect(d.topics.map(topicToString)).toEqual(signed.topics.map(topicToString));
        expect(normal(d.payload)).toEqual(normal(signed.payload));
        expect(bytesToHex(d.signature)).toBe(bytesToHex(signed.signature));
        expect(verifyMessage(d, alice.publicKey)).toBe(true);
        expect(bytesToHex(encodeMessage(d))).toBe(bytesToHex(bytes));
        expect(bytesToHex(rawPayloadOf(d)!)).toBe(bytesToHex(encodeValue(signed.payload)));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a topic float a float (2.0) and array-index-like attribute keys in wire order', () => {
    const t = createTopic(
      'n',
      new Map<string, never>([
        ['10', new Float64(2) as never],
        ['9', 1 as never],
      ]),
    );
    const d = decodeMessage(encodeMessage(createMessage({ topics: [t] })));
    expect(topicToString(d.topics[0]!)).toBe('n[10=2.0,9=1]v1.0');
    expect(d.topics[0]!.attributes).toBeInstanceOf(Map);
    expect([...(d.topics[0]!.attributes as Map<string, unknown>).keys()]).toEqual(['10', '9']);
  });

  it('decodes a topic attribute named __proto__ as an own property, not a prototype', () => {
    const t = createTopic('t', { ['__proto__']: 'x', a: 1 });
    const d = decodeMessage(encodeMessage(createMessage({ topics: [t] }))).topics[0]!;
    expect(Object.getPrototypeOf(d.attributes)).toBe(Object.prototype);
    expect(Object.keys(d.attributes)).toEqual(['__proto__', 'a']);
    expect(topicToString(d)).toBe(topicToString(t));
  });

  it('checks the payload against the bytes it arrived with, not a re-encoding', () => {
    // A peer that writes 1 as uint8 (cc 01) instead of a fixint: decoded, it is the number 1,
    // whose canonical encoding differs; the signature covers the peer's bytes.
    const m = createMessage({ payload: 1 });
    const canonical = encodeMessage(m);
    const hex = bytesToHex(canonical);
    const i = hex.indexOf('a77061796c6f616401') + 16;
    const peerPayload = hex.slice(0, i) + 'cc01' + hex.slice(i + 2);
    const d = decodeMessage(Buffer.from(peerPayload, 'hex'));
    expect(d.payload).toBe(1);
    const signed = decodeMessage(encodeMessage(signMessage(d, alice)));
    expect(bytesToHex(rawPayloadOf(signed)!)).toBe('cc01');
    expect(verifyMessage(signed, alice.publicKey)).toBe(true);
  });

  it('accepts keys in any order and unknown keys; a missing recipient, task_id, topics or signature has its default', () => {
    const enc = (o: Record<string, unknown>) => encodeValue(o);
    const d = decodeMessage(enc({ extra: [1, { deep: true }], timestamp: 5, payload: 'p', id: 'x' }));
    expect(d).toMatchObject({ id: 'x', sender: '', recipient: null, taskId: null, timestamp: 5, payload: 'p', topics: [] });
    expect(d.signature.byteLength).toBe(0);
    expect(decodeMessage(enc({ id: 'x', timestamp: 1 })).payload).toEqual({});
  });

  it('refuses wrong field types, missing fields, a bad signature length, invalid UTF-8, extra bytes, oversize', () => {
    const ok = { id: 'x', sender: 's', recipient: null, topics: [], payload: {}, task_id: null, timestamp: 1, signature: new Uint8Array(0) };
    const bad: Record<string, unknown>[] = [
      { ...ok, id: 1 },
      { ...ok, sender: [] },
      { ...ok, recipient: 5 },
      { ...ok, topics: {} },
      { ...ok, topics: [1] },
      { ...ok, topics: [{ attributes: {} }] },
      { ...ok, topics: [{ namespace: 'n', attributes: { a: [1] } }] },
      { ...ok, topics: [{ namespace: 'n', version: 1 }] },
      { ...ok, task_id: true },
      { ...ok, timestamp: 1.5 },
      { ...ok, timestamp: new Float64(2) },
      { ...ok, timestamp: 2n ** 60n },
      { ...ok, timestamp: '1' },
      { ...ok, signature: new Uint8Array(63) },
      { ...ok, signature: 'sig' },
      { sender: 's', timestamp: 1 },
      { id: 'x' },
    ];
    for (const b of bad) expect(() => decodeMessage(encodeValue(b)), JSON.stringify(Object.keys(b))).toThrow(DecodeError);
    const good = encodeValue(ok);
    expect(() => decodeMessage(new Uint8Array([...good, 0xc0]))).toThrow(/extra bytes/);
    expect(() => decodeMessage(good, { maxBytes: good.byteLength - 1 })).toThrow(/exceeds the limit/);
    expect(decodeMessage(good, { maxBytes: good.byteLength }).id).toBe('x');
    // id = "\xff" (a str of one invalid UTF-8 byte)
    const badUtf8 = Buffer.from(bytesToHex(good).replace('a26964a178', 'a26964a1ff'), 'hex');
    expect(() => decodeMessage(badUtf8)).toThrow(/UTF-8/);
    expect(() => decodeMessage('not bytes' as never)).toThrow(DecodeError);
  });

  it('decodes any payload the codec encodes: 100 nested containers, and refuses to encode 101', () => {
    const nest = (n: number): WireValue => (n === 0 ? 'leaf' : n % 2 ? [nest(n - 1)] : { k: nest(n - 1) });
    const d = decodeMessage(encodeMessage(createMessage({ payload: nest(100) })));
    expect(normal(d.payload)).toEqual(normal(nest(100)));
    expect(bytesToHex(encodeValue(decodeValue(encodeValue(nest(100)))))).toBe(bytesToHex(encodeValue(nest(100))));
    expect(() => encodeMessage(createMessage({ payload: nest(101) }))).toThrow(EncodeError);
  });

  it('copies what it keeps: changing the input afterwards changes nothing', () => {
    const bytes = encodeMessage(signMessage(createMessage({ payload: { a: 'b' } }), alice));
    const d = decodeMessage(bytes);
    bytes.fill(0);
    expect(d.payload).toEqual({ a: 'b' });
    expect(verifyMessage(d, alice.publicKey)).toBe(true);
  });
});

describe('rawPayloadOf', () => {
  it('is undefined for a new message, and the kept payload bytes once signed, encoded or decoded', () => {
    const m = createMessage({ payload: [1] });
    expect(rawPayloadOf(m)).toBeUndefined();
    encodeMessage(m);
    expect(bytesToHex(rawPayloadOf(m)!)).toBe('9101');
    expect(bytesToHex(rawPayloadOf(signMessage(createMessage({ payload: 'a' }), alice))!)).toBe('a161');
    expect(bytesToHex(rawPayloadOf(decodeMessage(encodeMessage(m)))!)).toBe('9101');
  });
});
