// Bad input: random bytes, mutated valid frames and lying length fields give DecodeError and
// nothing else (no other error, no hang, no allocation beyond the input), and whatever does
// decode is a well-formed message.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMessage, DecodeError, decodeMessage, decodeValue, encodeMessage, encodeValue, hexToBytes, Identity, KeyError } from '@converge/core';
import { signMessage, topicToString, verifyMessage } from '@converge/core';
import type { Message } from '@converge/core';
import { messageInit } from './arbitraries.js';
import { describeWithVectors, vectors } from './vectors.js';

const alice = Identity.fromSecretKey(new Uint8Array(32).fill(3));

/** Valid encoded messages: every interop vector (when the file is there), plus arbitrary signed ones. */
const vectorFrames: Uint8Array[] = (vectors?.messages ?? []).map((m: { encoded: string }) => hexToBytes(m.encoded));
const validFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  ...(vectorFrames.length > 0 ? [fc.constantFrom(...vectorFrames)] : []),
  messageInit.map((init) => encodeMessage(signMessage(createMessage(init), alice))),
);

// Header bytes that declare a length or a count, each followed by its largest value.
const HUGE_HEADERS: Record<string, number[]> = {
  str8: [0xd9, 0xff],
  str16: [0xda, 0xff, 0xff],
  str32: [0xdb, 0xff, 0xff, 0xff, 0xff],
  bin8: [0xc4, 0xff],
  bin16: [0xc5, 0xff, 0xff],
  bin32: [0xc6, 0xff, 0xff, 0xff, 0xff],
  array16: [0xdc, 0xff, 0xff],
  array32: [0xdd, 0xff, 0xff, 0xff, 0xff],
  map16: [0xde, 0xff, 0xff],
  map32: [0xdf, 0xff, 0xff, 0xff, 0xff],
};

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'huge'; at: number; header: number[] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), header: fc.constantFrom(...Object.values(HUGE_HEADERS)) }),
);

function mutate(frame: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = Array.from(frame);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'flip' && b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
    else if (m.kind === 'truncate') b = b.slice(0, at);
    else if (m.kind === 'insert') b.splice(at, 0, ...m.bytes);
    else if (m.kind === 'delete') b.splice(at, m.n);
    else if (m.kind === 'huge') b.splice(at, m.header.length, ...m.header); // overwrite a value's header
  }
  return new Uint8Array(b);
}

/** What a decoded message must look like, whatever the input was. */
function expectWellFormed(m: Message): void {
  expect(Object.isFrozen(m)).toBe(true);
  expect(typeof m.id).toBe('string');
  expect(typeof m.sender).toBe('string');
  expect(m.recipient === null || typeof m.recipient === 'string').toBe(true);
  expect(m.taskId === null || typeof m.taskId === 'string').toBe(true);
  expect(Number.isSafeInteger(m.timestamp)).toBe(true);
  expect([0, 64]).toContain(m.signature.byteLength);
  for (const t of m.topics) expect(typeof topicToString(t)).toBe('string');
  // Verification answers with a boolean, and the message survives a round trip.
  expect(typeof verifyMessage(m, alice.publicKey)).toBe('boolean');
  const again = decodeMessage(encodeMessage(m));
  expect([again.id, again.sender, again.recipient, again.taskId, again.timestamp]).toEqual([m.id, m.sender, m.recipient, m.taskId, m.timestamp]);
  expect(again.topics.map(topicToString)).toEqual(m.topics.map(topicToString));
}

/** Decodes `bytes`: either a well-formed message or a DecodeError, nothing else. */
function decodesOrRefuses(bytes: Uint8Array): 'ok' | 'refused' {
  let m: Message;
  try {
    m = decodeMessage(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).code).toBe('ERR_DECODE');
    return 'refused';
  }
  expectWellFormed(m);
  return 'ok';
}

describe('decodeMessage on bad input', () => {
  it('random bytes: a well-formed message or DecodeError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void decodesOrRefuses(b)),
      { numRuns: 2000 },
    );
  });

  it('random bytes behind a map header (so the envelope parser is reached)', () => {
    const head = fc.constantFrom([0x88], [0x87], [0x81], [0xde, 0x00, 0x03], [0x88, 0xa2, 0x69, 0x64]);
    fc.assert(
      fc.property(head, fc.uint8Array({ maxLength: 200 }), (h, b) => void decodesOrRefuses(new Uint8Array([...h, ...b]))),
      { numRuns: 2000 },
    );
  });

  it('mutated valid frames (bit flips, truncations, insertions, deletions, huge lengths)', () => {
    let refused = 0;
    fc.assert(
      fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 4 }), (frame, ms) => {
        if (decodesOrRefuses(mutate(frame, ms)) === 'refused') refused++;
      }),
      { numRuns: 1500 },
    );
    // The mutations do reach the error paths (a generator that produced only valid frames
    // would make this test pass vacuously).
    expect(refused).toBeGreaterThan(100);
  });

  describeWithVectors('interop vectors', () => {
    it('every truncation of every vector is refused', () => {
      expect(vectorFrames.length).toBeGreaterThan(0);
      for (const frame of vectorFrames) {
        for (let n = 0; n < frame.byteLength; n++) expect(() => decodeMessage(frame.subarray(0, n))).toThrow(DecodeError);
      }
    });
  });

  describe('a declared 4 GiB (or 64 KiB) length in a small buffer is refused before allocation', () => {
    let before = 0;
    beforeAll(() => {
      before = process.memoryUsage().arrayBuffers;
    });
    const frame = encodeMessage(createMessage({ id: 'i', payload: { k: 'v' } }));
    const hex = Buffer.from(frame).toString('hex');
    // Offsets (in the valid frame) of: the top-level map header, a key header, the id value,
    // the payload map header, a payload key, a payload value, the signature header.
    const targets: Record<string, number> = {
      'top level': 0,
      key: 1,
      'id value': hex.indexOf('a169') / 2,
      payload: hex.indexOf('81a16b') / 2,
      'payload key': hex.indexOf('a16ba176') / 2,
      'payload value': hex.indexOf('a176') / 2,
      signature: hex.indexOf('c400') / 2,
    };
    for (const [where, at] of Object.entries(targets)) {
      for (const [kind, header] of Object.entries(HUGE_HEADERS)) {
        it(`${kind} at ${where}`, () => {
          expect(at).toBeGreaterThanOrEqual(0);
          expect(Number.isInteger(at)).toBe(true);
          const b = new Uint8Array([...frame.subarray(0, at), ...header, ...frame.subarray(at + 1)]);
          let err: unknown;
          try {
            decodeMessage(b);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(DecodeError);
          // Refused by the decoder's own checks, not a wrapped allocation or range failure.
          expect((err as DecodeError).cause).toBeUndefined();
        });
      }
    }
    it('and memory held in ArrayBuffers did not grow by anything like the declared sizes', () => {
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    });
  });

  it('deep nesting is refused without overflowing the stack', () => {
    for (const open of [0x91, 0x81]) {
      const depth = 100_000;
      const b = new Uint8Array(depth * (open === 0x81 ? 3 : 1) + 1);
      let p = 0;
      for (let i = 0; i < depth; i++) {
        b[p++] = open;
        if (open === 0x81) {
          b[p++] = 0xa1;
          b[p++] = 0x6b;
        }
      }
      b[p] = 0xc0;
      expect(() => decodeValue(b)).toThrow(/nesting/);
      const msg = encodeValue({ id: 'x', timestamp: 1, payload: 0 });
      const withDeep = new Uint8Array([...msg.subarray(0, msg.byteLength - 1), ...b]);
      expect(() => decodeMessage(withDeep)).toThrow(/nesting/);
    }
  });

  it('a message over maxBytes is refused before it is parsed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 11, maxLength: 64 }), (b) => {
        expect(() => decodeMessage(b, { maxBytes: 10 })).toThrow(/exceeds the limit of 10/);
      }),
    );
  });

  it('decodeValue on random bytes: a value or DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          decodeValue(b);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('keys and signatures of the wrong size', () => {
  it('Identity.fromSecretKey refuses every length but 32 and 64 with KeyError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }).filter((b) => b.byteLength !== 32 && b.byteLength !== 64),
        (b) => {
          expect(() => Identity.fromSecretKey(b)).toThrow(KeyError);
        },
      ),
    );
    expect(() => Identity.fromSecretKey('00'.repeat(32) as never)).toThrow(KeyError);
  });

  it('verifyMessage with a key that is not 32 bytes or a signature that is not 64 is false, never a throw', () => {
    const signed = signMessage(createMessage({ payload: 'p' }), alice);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), (key, sig) => {
        const k = key.byteLength === 32 ? alice.publicKey.subarray(0, 31) : key;
        expect(verifyMessage(signed, k)).toBe(false);
        const s = sig.byteLength === 64 ? sig.subarray(0, 63) : sig;
        expect(verifyMessage({ ...signed, signature: s }, alice.publicKey)).toBe(false);
      }),
    );
    expect(verifyMessage(signed, alice.publicKey.subarray(0, 31))).toBe(false);
    expect(verifyMessage({ ...signed, signature: signed.signature.subarray(0, 63) }, alice.publicKey)).toBe(false);
    expect(verifyMessage(signed, alice.publicKey)).toBe(true);
  });

  it('verifyMessage with a random 32-byte key or 64-byte signature is false (the curve point may not even decode)', () => {
    const signed = signMessage(createMessage({ payload: 'p' }), alice);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), (key, sig) => {
        expect(verifyMessage(signed, key)).toBe(false);
        expect(verifyMessage({ ...signed, signature: sig }, alice.publicKey)).toBe(false);
        expect(verifyMessage({ ...signed, signature: sig }, alice.publicKey, { backend: 'noble' })).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
});

describe('a map header that over-counts its entries', () => {
  it('is a DecodeError even when nested values used up the bytes first', () => {
    // fixmap of 2 entries: "a" -> [1, 2.0]; the second entry is missing entirely.
    const bytes = Uint8Array.from([0x82, 0xa1, 0x61, 0x92, 0x01, 0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeValue(bytes)).toThrow(DecodeError);
  });
});
