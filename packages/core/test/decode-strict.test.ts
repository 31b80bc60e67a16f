// Strict decoding (issue 21: L4 invalid UTF-8, L5 ambiguous topics, M7 id length).
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  Identity,
  MAX_MESSAGE_ID_BYTES,
  ValidationError,
  createMessage,
  createTopic,
  decodeMessage,
  decodeValue,
  encodeMessage,
  encodeValue,
  hexToBytes,
  signMessage,
  topicRoundTrips,
  topicToString,
  verifyMessage,
} from '@converge/core';

const alice = Identity.generate();

/** A msgpack fixstr holding the ASCII `key`, as hex. */
function keyHex(key: string): string {
  return (0xa0 + key.length).toString(16) + Buffer.from(key).toString('hex');
}

/** `bytes` with the first occurrence of `from` replaced by `to` (same length). */
function patch(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const hex = Buffer.from(bytes).toString('hex');
  const at = hex.indexOf(from);
  expect(at % 2).toBe(0);
  expect(from.length).toBe(to.length);
  return hexToBytes(hex.slice(0, at) + to + hex.slice(at + from.length));
}

describe('payload strings are strict UTF-8 (L4)', () => {
  // Payload "xyz" (a3 78 79 7a) in a signed message, its three bytes then replaced (the
  // string header kept at 3 bytes, so only the UTF-8 check can refuse them).
  const wire = encodeMessage(signMessage(createMessage({ payload: { s: 'xyz' } }), alice));
  const cases: [string, string][] = [
    ['an overlong slash (C0 AF)', 'a3c0af7a'],
    ['a UTF-16 surrogate (ED A0 80)', 'a3eda080'],
    ['a sequence cut short by the end of the string (E2 82)', 'a37ae282'],
    ['a stray continuation byte (80)', 'a3787980'],
  ];
  it.each(cases)('refuses %s with a DecodeError', (_name, bad) => {
    const bytes = patch(wire, 'a378797a', bad);
    expect(() => decodeMessage(bytes)).toThrow(DecodeError);
    expect(() => decodeValue(patch(encodeValue({ s: 'xyz' }), 'a378797a', bad))).toThrow(DecodeError);
  });

  it('refuses invalid UTF-8 in a payload map key, and in a long (str8) string', () => {
    expect(() => decodeValue(patch(encodeValue({ xyz: 1 }), 'a378797a', 'a3c0af7a'))).toThrow(DecodeError);
    const long = 'y'.repeat(40);
    const bytes = encodeValue([long]);
    const hex = Buffer.from(bytes)
      .toString('hex')
      .replace('79'.repeat(40), '79'.repeat(38) + 'c0af');
    expect(() => decodeValue(hexToBytes(hex))).toThrow(DecodeError);
  });

  it('refuses invalid UTF-8 in any field value, also one that a repeated key replaces, and in unknown fields and topics', () => {
    // The strings of id, sender, recipient, task_id and payload are UTF-8-checked as they are
    // decoded; a value the decoder skips (replaced by a later repeat of its key, unknown, or a
    // topic's unknown entry) must be checked by the scan, as Python's msgpack reads them all.
    const valid = encodeMessage(signMessage(createMessage({ payload: { s: 'xyz' }, topics: [createTopic('t')] }), alice));
    const entries = Buffer.from(valid).subarray(1).toString('hex');
    const withFirst = (key: string, value: string) => hexToBytes('89' + keyHex(key) + value + entries);
    for (const key of ['id', 'sender', 'recipient', 'task_id', 'payload', 'unknown']) {
      expect(() => decodeMessage(withFirst(key, 'a2c328')), key).toThrow(DecodeError);
      expect(() => decodeMessage(withFirst(key, '91a2c328')), key).toThrow(DecodeError);
      // The same frame with valid UTF-8 there decodes (the later key wins), so only the check refuses it.
      expect(decodeMessage(withFirst(key, 'a2c3a9')).id, key).toBe(decodeMessage(valid).id);
    }
    const topicHead = '83' + keyHex('namespace');
    const inTopic = (value: string) =>
      hexToBytes(
        Buffer.from(valid)
          .toString('hex')
          .replace(topicHead, '84' + keyHex('x') + value + keyHex('namespace')),
      );
    expect(() => decodeMessage(inTopic('a2c328'))).toThrow(DecodeError);
    expect(decodeMessage(inTopic('a2c3a9')).topics[0]!.namespace).toBe('t');
  });

  it('still decodes valid multi-byte text, short and long', () => {
    const payload = { a: 'é', b: 'données Ελληνικά 😀'.repeat(8), ['ключ']: '' };
    const m = decodeMessage(encodeMessage(signMessage(createMessage({ payload }), alice)));
    expect(m.payload).toEqual(payload);
    expect(verifyMessage(m, alice)).toBe(true);
  });
});

describe('topics must read back from their signed string form (L5)', () => {
  it('createTopic refuses an ambiguous topic with a ValidationError', () => {
    expect(() => createTopic('transport.tcp', { host: '127.0.0.1,port=7000' })).toThrow(ValidationError);
    expect(() => createTopic('t', { 'a=b': 1 })).toThrow(ValidationError);
    expect(() => createTopic('t[x', {})).toThrow(ValidationError);
    expect(() => createTopic('t', {}, '1]v2')).toThrow(ValidationError);
    expect(createTopic('transport.tcp', { host: '127.0.0.1', port: 7000 }).namespace).toBe('transport.tcp');
    expect(createTopic('t', { k: 'a=b]v[c' }).attributes).toEqual({ k: 'a=b]v[c' });
  });

  it('two attribute maps that print alike cannot both be valid', () => {
    const forged = { namespace: 'transport.tcp', attributes: { host: '127.0.0.1,port=7000' }, version: '1.0' };
    const honest = { namespace: 'transport.tcp', attributes: { host: '127.0.0.1', port: 7000 }, version: '1.0' };
    expect(topicToString(forged)).toBe(topicToString(honest));
    expect(topicRoundTrips(forged)).toBe(false);
    expect(topicRoundTrips(honest)).toBe(true);
  });

  it('the decoder refuses a received topic that does not round-trip, and one with a repeated attribute', () => {
    // Sign with the honest topic, then swap in the ambiguous one: the signature would still verify.
    const honest = createTopic('transport.tcp', { host: '127.0.0.1', port: 7000 });
    const m = signMessage(createMessage({ topics: [honest] }), alice);
    const forgedTopics = [{ namespace: 'transport.tcp', attributes: { host: '127.0.0.1,port=7000' }, version: '1.0' }];
    const forged = encodeMessage({ ...m, topics: forgedTopics });
    expect(() => decodeMessage(forged)).toThrow(DecodeError);
    // A repeated attribute name: {k: 'a', k: 'b'} (the object form would keep only one).
    const one = encodeMessage(signMessage(createMessage({ topics: [createTopic('t', { k: 'a', j: 'b' })] }), alice));
    expect(() => decodeMessage(patch(one, 'a16ba161a16aa162', 'a16ba161a16ba162'))).toThrow(DecodeError);
  });
});

describe('message ids are bounded (M7)', () => {
  it(`decodes an id of ${MAX_MESSAGE_ID_BYTES} bytes and refuses one byte more`, () => {
    const ok = createMessage({ id: 'i'.repeat(MAX_MESSAGE_ID_BYTES) });
    expect(decodeMessage(encodeMessage(ok)).id).toBe(ok.id);
    const long = encodeMessage({ ...ok, id: 'i'.repeat(MAX_MESSAGE_ID_BYTES + 1) });
    expect(() => decodeMessage(long)).toThrow(DecodeError);
    expect(() => decodeMessage(encodeMessage({ ...ok, id: 'i'.repeat(8 * 1024 * 1024) }))).toThrow(/exceeds the limit of 128/);
  });

  it('createMessage refuses an id over the limit (in UTF-8 bytes) with a ValidationError', () => {
    expect(() => createMessage({ id: 'i'.repeat(MAX_MESSAGE_ID_BYTES + 1) })).toThrow(ValidationError);
    expect(() => createMessage({ id: 'é'.repeat(65) })).toThrow(ValidationError);
    expect(createMessage({ id: 'é'.repeat(64) }).id).toHaveLength(64);
  });
});
