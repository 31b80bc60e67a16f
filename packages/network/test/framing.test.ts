// FrameDecoder / encodeFrame against the interop vectors and hostile input.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { FrameTooLargeError, bytesToHex, decodeMessage, encodeMessage, hexToBytes, verifyMessage } from '@converge/core';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame } from '../src/framing.js';
import { chunk, describeWithVectors, identities, vectorMessage, vectors } from '../../../test/support/transport-helpers.js';

function decodeAll(decoder: FrameDecoder, parts: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const p of parts) decoder.push(p, (body) => out.push(bytesToHex(body)));
  return out;
}

describeWithVectors('framing', () => {
  const tcp = vectors.tcp_frames;
  const stream = hexToBytes(tcp.stream.bytes);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const frames: any[] = tcp.tcp_frames ?? tcp.frames;

  it('uses the reference limit by default', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(tcp.max_frame_bytes);
  });

  it.each(frames.map((f) => [f.name, f]))('%s: encodeFrame(encodeMessage(message)) equals the reference frame byte for byte', (_n, f) => {
    const m = vectorMessage(f.input, f.signer);
    expect(bytesToHex(encodeMessage(m))).toBe(f.encoded);
    expect(bytesToHex(encodeFrame(encodeMessage(m)))).toBe(f.frame);
    expect(f.frame.length / 2).toBe(f.length + 4);
  });

  it('decodes stream.bytes into the right messages for any chunking (property)', () => {
    const expected = tcp.stream.names.map((n: string) => frames.find((f) => f.name === n).encoded);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.byteLength }), { maxLength: 40 }), (cuts) => {
        const decoder = new FrameDecoder();
        expect(decodeAll(decoder, chunk(stream, cuts))).toEqual(expected);
        expect(decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('byte-at-a-time input gives the same messages, and they verify with the vector public keys', () => {
    const decoder = new FrameDecoder();
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < stream.byteLength; i++) decoder.push(stream.subarray(i, i + 1), (b) => bodies.push(new Uint8Array(b)));
    expect(bodies).toHaveLength(frames.length);
    for (const [i, body] of bodies.entries()) {
      const f = frames.find((x) => x.name === tcp.stream.names[i]);
      const m = decodeMessage(body);
      expect(m.id).toBe(f.input.id);
      const pub = vectors.identities.find((v: { name: string }) => v.name === f.signer).public_key;
      expect(verifyMessage(m, hexToBytes(pub))).toBe(true);
      expect(verifyMessage(m, identities.get(f.signer === 'alice' ? 'bob' : 'alice')!.publicKey)).toBe(false);
    }
  });

  it('refuses the oversize_prefix_example and a 4 GiB prefix without buffering anything', () => {
    for (const prefix of [tcp.oversize_prefix_example, 'ffffffff']) {
      const decoder = new FrameDecoder();
      const seen: Uint8Array[] = [];
      const data = new Uint8Array([...hexToBytes(prefix), 1, 2, 3]);
      expect(() => decoder.push(data, (b) => seen.push(b))).toThrow(FrameTooLargeError);
      expect(decoder.bufferedBytes).toBe(0);
      expect(seen).toHaveLength(0);
      expect(() => decoder.push(new Uint8Array([0]), () => undefined)).toThrow(FrameTooLargeError); // stays failed
    }
  });

  it('refuses an oversize prefix split across reads, after delivering the frames before it', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100 });
    const seen: number[] = [];
    decoder.push(new Uint8Array([0, 0, 0, 1, 7, 0, 0]), (b) => seen.push(b[0]!));
    expect(seen).toEqual([7]);
    expect(() => decoder.push(new Uint8Array([0, 101]), () => undefined)).toThrow(FrameTooLargeError);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('accepts a frame of exactly maxFrameBytes and holds at most one frame while it arrives', () => {
    const max = 1000;
    const decoder = new FrameDecoder({ maxFrameBytes: max });
    const body = new Uint8Array(max).map((_, i) => i & 0xff);
    const frame = encodeFrame(body, max);
    const seen: Uint8Array[] = [];
    for (let i = 0; i < frame.byteLength; i += 7) {
      decoder.push(frame.subarray(i, i + 7), (b) => seen.push(new Uint8Array(b)));
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(max + 4);
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual(body);
    expect(() => encodeFrame(new Uint8Array(max + 1), max)).toThrow(FrameTooLargeError);
  });

  it('never buffers more than the bytes received for a frame that claims to be large', () => {
    const decoder = new FrameDecoder();
    decoder.push(new Uint8Array([0, 0xa0, 0, 0, 1, 2]), () => undefined); // claims 10 MiB, sends 2 bytes
    expect(decoder.bufferedBytes).toBe(6);
    expect(decoder.hasPartialFrame).toBe(true);
    expect(decoder.reset()).toBe(6);
  });
});
