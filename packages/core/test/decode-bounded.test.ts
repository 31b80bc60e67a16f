// The fast path reads the payload of a canonical envelope in one bounded pass (no scan first):
// a payload that lies about its lengths, counts or depth is refused exactly as the general
// decoder refuses it, and nothing is allocated for a count the bytes cannot hold.
import { describe, expect, it } from 'vitest';
import * as core from '@converge/core';

const { DecodeError, Identity, createMessage, decodeMessage, encodeMessage, signMessage } = core;
const alice = Identity.generate();
// The payload { a: 1 } as msgpack: fixmap(1), fixstr 'a', 1.
const PAYLOAD = [0x81, 0xa1, 0x61, 0x01];

/** A canonical, signed envelope whose payload bytes are replaced by `payload`. */
function withPayload(payload: number[]): Uint8Array {
  const bytes = encodeMessage(signMessage(createMessage({ recipient: null, payload: { a: 1 } }), alice));
  const at = Buffer.from(bytes).indexOf(Buffer.from(PAYLOAD));
  expect(at).toBeGreaterThan(0);
  return Uint8Array.from([...bytes.subarray(0, at), ...payload, ...bytes.subarray(at + PAYLOAD.length)]);
}

function refusal(bytes: Uint8Array): string {
  try {
    decodeMessage(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return (err as Error).message;
  }
  throw new Error('decoded');
}

describe('the bounded payload read of the fast path', () => {
  it('decodes what the general path decodes', () => {
    const m = decodeMessage(withPayload([0x82, 0xa1, 0x61, 0x92, 0x01, 0xc3, 0xa1, 0x62, 0xc4, 0x02, 0x07, 0x08]));
    expect(m.payload).toEqual({ a: [1, true], b: new Uint8Array([7, 8]) });
    expect(m.signature.byteLength).toBe(64);
  });

  it('refuses counts and lengths the bytes cannot hold, with the general path error', () => {
    expect(refusal(withPayload([0x81, 0xa1, 0x61, 0xdd, 0xff, 0xff, 0xff, 0xff]))).toMatch(/truncated/);
    expect(refusal(withPayload([0xdf, 0xff, 0xff, 0xff, 0xff]))).toMatch(/truncated/);
    expect(refusal(withPayload([0x81, 0xa1, 0x61, 0xdb, 0x7f, 0xff, 0xff, 0xff]))).toMatch(/truncated/);
    expect(refusal(withPayload([0x81, 0xa1, 0x61, 0xc6, 0x7f, 0xff, 0xff, 0xff]))).toMatch(/truncated/);
  });

  it('refuses non-string keys, ext types and nesting beyond the limit', () => {
    expect(refusal(withPayload([0x81, 0x01, 0x01]))).toMatch(/not a string/);
    expect(refusal(withPayload([0x81, 0xa1, 0x61, 0xd4, 0x01, 0x00]))).toMatch(/unsupported msgpack type/);
    const deep = [...Array.from({ length: 101 }, () => 0x91), 0x01];
    expect(refusal(withPayload(deep))).toMatch(/nesting deeper than 100/);
  });
});
