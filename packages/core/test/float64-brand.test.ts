// The Float64 brand: a marker made by another copy of core (an ESM and a CJS build, two
// installed versions) is still a float on the wire. Before the brand, `instanceof` missed it:
// encodeValue threw, and code that fell back to the number wrote an int, breaking signatures.
import { describe, expect, it } from 'vitest';
import {
  FLOAT64_BRAND,
  Float64,
  Identity,
  bytesToHex,
  createMessage,
  createTopic,
  encodeValue,
  isFloat64,
  signMessage,
  signingBytes,
  topicToString,
  verifyMessage,
} from '@converge/core';

// A second copy of the module, as a second installed build would give: its own class.
const secondCopy = '../src/float.ts?second-copy';
const copy = (await import(/* @vite-ignore */ secondCopy)) as typeof import('../src/float.js');

/** A look-alike written by hand: a class of its own that carries the brand. */
class LookAlike {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  get [Symbol.for('@converge/float64')](): true {
    return true;
  }
}

describe('Float64 brand', () => {
  it('is the registered symbol @converge/float64', () => {
    expect(FLOAT64_BRAND).toBe(Symbol.for('@converge/float64'));
    expect(copy.FLOAT64_BRAND).toBe(FLOAT64_BRAND);
  });

  it('the second copy is really another class, and isFloat64 recognises its markers', () => {
    const other = new copy.Float64(2);
    expect(other).not.toBeInstanceOf(Float64);
    expect(isFloat64(other)).toBe(true);
    expect(copy.isFloat64(new Float64(2))).toBe(true);
    expect(isFloat64(new LookAlike(2))).toBe(true);
  });

  it('a marker from another copy, or a branded look-alike, encodes as float64, not as an int', () => {
    expect(bytesToHex(encodeValue({ f: new copy.Float64(2) }))).toBe('81a166cb4000000000000000');
    expect(bytesToHex(encodeValue({ f: new LookAlike(2) }))).toBe('81a166cb4000000000000000');
    expect(bytesToHex(encodeValue({ f: new Float64(2) }))).toBe('81a166cb4000000000000000');
  });

  it('objects without the brand are not markers', () => {
    expect(isFloat64({ value: 2 })).toBe(false);
    expect(isFloat64({ [Symbol.for('@converge/float64')]: 'yes', value: 2 })).toBe(false);
    expect(isFloat64(2)).toBe(false);
    expect(isFloat64(null)).toBe(false);
    expect(() =>
      encodeValue({
        f: new (class Other {
          value = 2;
        })(),
      }),
    ).toThrow(/cannot encode an instance of Other/);
  });

  it('a message signed with one copy verifies with the same bytes as with the other (payload and topics)', () => {
    const alice = Identity.generate();
    const fields = (F: new (v: number) => object) => ({
      id: 'm1',
      timestamp: 1,
      payload: { x: F === Float64 ? new Float64(2) : (new F(2) as never) },
      topics: [createTopic('t', { w: new F(2) as never })],
    });
    const ours = createMessage(fields(Float64));
    const theirs = createMessage(fields(copy.Float64));
    expect(topicToString(theirs.topics[0]!)).toBe('t[w=2.0]v1.0');
    expect(bytesToHex(signingBytes(theirs))).toBe(bytesToHex(signingBytes(ours)));
    const signed = signMessage(theirs, alice);
    expect(verifyMessage({ ...signMessage(ours, alice), signature: signed.signature }, alice.publicKey)).toBe(true);
  });
});
