// Property-based tests of FrameDecoder: any chunking of valid frames decodes to exactly those
// frames; arbitrary bytes either decode like a reference model or fail with FrameTooLargeError
// only; the buffered tail never exceeds one frame. Runs: CONVERGE_FUZZ_RUNS (default 300).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameTooLargeError } from '@converge/core';
import { FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from '../../src/framing.js';

const RUNS = Number(process.env.CONVERGE_FUZZ_RUNS ?? 300);
const MAX = 2048;

/** Cuts `bytes` at sorted positions taken from `cuts` (values in [0, 1)). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.byteLength)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.byteLength]) {
    // Also feed empty chunks now and then: they must be no-ops.
    out.push(bytes.subarray(prev, Math.max(prev, p)));
    prev = Math.max(prev, p);
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

/** The reference: walk the whole stream at once. */
function model(stream: Uint8Array, max: number): { frames: Uint8Array[]; tooLarge?: number; tail: number } {
  const frames: Uint8Array[] = [];
  let pos = 0;
  while (stream.byteLength - pos >= FRAME_HEADER_BYTES) {
    const size = Buffer.from(stream.buffer, stream.byteOffset + pos, 4).readUInt32BE(0);
    if (size > max) return { frames, tooLarge: size, tail: 0 };
    if (pos + 4 + size > stream.byteLength) break;
    frames.push(stream.subarray(pos + 4, pos + 4 + size));
    pos += 4 + size;
  }
  return { frames, tail: stream.byteLength - pos };
}

function feed(decoder: FrameDecoder, chunks: Uint8Array[]): { frames: Uint8Array[]; error?: unknown; maxBuffered: number } {
  const frames: Uint8Array[] = [];
  let maxBuffered = 0;
  for (const c of chunks) {
    // The caller may reuse its buffer after push: hand a copy we then scribble over.
    const copy = new Uint8Array(c);
    try {
      decoder.push(copy, (body) => frames.push(new Uint8Array(body)));
    } catch (err) {
      copy.fill(0xee);
      return { frames, error: err, maxBuffered };
    }
    copy.fill(0xee);
    maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes);
  }
  return { frames, maxBuffered };
}

const bodies = fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 24 });
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { maxLength: 40 });

describe('FrameDecoder (property-based)', () => {
  it('decodes any chunking of valid frames to exactly those frames, in order, holding at most one frame', () => {
    fc.assert(
      fc.property(bodies, cuts, (bs, cs) => {
        const stream = concat(bs.map((b) => encodeFrame(b, MAX)));
        const d = new FrameDecoder({ maxFrameBytes: MAX });
        const r = feed(d, split(stream, cs));
        expect(r.error).toBeUndefined();
        expect(r.frames).toEqual(bs);
        expect(r.maxBuffered).toBeLessThanOrEqual(MAX + FRAME_HEADER_BYTES);
        expect(d.bufferedBytes).toBe(0);
        expect(d.hasPartialFrame).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('on arbitrary bytes in arbitrary chunks, behaves as the reference model and throws only FrameTooLargeError', () => {
    // Small limits make oversize prefixes common; frames of random length make truncation common.
    const max = fc.integer({ min: 1, max: 600 });
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 4000 }),
      // Plausible prefixes (small lengths) followed by junk, so that frames do get delivered.
      fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.uint8Array({ maxLength: 700 })), { maxLength: 12 }).map((parts) =>
        concat(
          parts.map(([n, junk]) => {
            const h = Buffer.alloc(4);
            h.writeUInt32BE(n);
            return concat([h, junk]);
          }),
        ),
      ),
    );
    fc.assert(
      fc.property(max, garbage, cuts, (m, stream, cs) => {
        const d = new FrameDecoder({ maxFrameBytes: m });
        const r = feed(d, split(stream, cs));
        const want = model(stream, m);
        expect(r.frames).toEqual(want.frames);
        expect(r.maxBuffered).toBeLessThanOrEqual(m + FRAME_HEADER_BYTES);
        if (want.tooLarge !== undefined) {
          expect(r.error).toBeInstanceOf(FrameTooLargeError);
          expect((r.error as FrameTooLargeError).size).toBe(want.tooLarge);
          expect(d.error).toBe(r.error);
          expect(d.bufferedBytes).toBe(0);
          // A failed decoder stays failed, with the same error.
          expect(() => d.push(new Uint8Array([0, 0, 0, 0]), () => undefined)).toThrow(r.error as Error);
        } else {
          expect(r.error).toBeUndefined();
          expect(d.bufferedBytes).toBe(want.tail);
          expect(d.hasPartialFrame).toBe(want.tail > 0);
          expect(d.reset()).toBe(want.tail);
          expect(d.bufferedBytes).toBe(0);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a prefix announcing a huge frame costs only the bytes received', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 64 * 1024 }), fc.integer({ min: 1, max: 4096 }), (announced, sent) => {
        const d = new FrameDecoder({ maxFrameBytes: 64 * 1024 });
        const h = Buffer.alloc(4);
        h.writeUInt32BE(announced);
        const got: Uint8Array[] = [];
        d.push(h, (b) => got.push(b));
        d.push(new Uint8Array(Math.min(sent, announced - 1)), (b) => got.push(b));
        expect(got).toEqual([]);
        expect(d.bufferedBytes).toBe(4 + Math.min(sent, announced - 1));
      }),
      { numRuns: RUNS },
    );
  });
});
