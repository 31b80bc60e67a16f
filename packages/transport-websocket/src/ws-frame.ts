import { FRAME_HEADER_BYTES, type NetInstruments } from '@converge/network/internal';

/**
 * The encoded message inside one WebSocket message (a 4-byte big-endian length, then the
 * message), or `undefined` when the data is refused, logged and counted: shorter than the length
 * prefix or than the length it announces (`short`), or announcing more than `maxFrameBytes`
 * (`oversize`). Bytes after the announced length are ignored, as the reference slices them off.
 * Shared by the `ws` transport and the WHATWG client (no `Buffer` here).
 */
export function wsFramePayload(bytes: Uint8Array, maxFrameBytes: number, instruments: NetInstruments, remote: string): Uint8Array | undefined {
  if (bytes.byteLength < FRAME_HEADER_BYTES) {
    instruments.rejected('short', { remote, bytes: bytes.byteLength });
    return undefined;
  }
  const len = ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
  if (len > maxFrameBytes) {
    instruments.rejected('oversize', { remote, size: len, limit: maxFrameBytes });
    return undefined;
  }
  if (len > bytes.byteLength - FRAME_HEADER_BYTES) {
    instruments.rejected('short', { remote, bytes: bytes.byteLength, announced: len });
    return undefined;
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset + FRAME_HEADER_BYTES, len);
}
