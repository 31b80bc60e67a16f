import { DEFAULT_MAX_MESSAGE_BYTES, FrameTooLargeError, ValidationError, concatBytes } from '@converge/core';

/** Bytes of the length prefix in front of every frame (4-byte big-endian unsigned). */
export const FRAME_HEADER_BYTES = 4;

/**
 * Default largest frame body accepted on send and on receive: 10 MiB (10,485,760 bytes), the
 * reference's `max_frame_bytes`. A body of exactly this size is accepted.
 */
export const DEFAULT_MAX_FRAME_BYTES = DEFAULT_MAX_MESSAGE_BYTES;

/** Validates a `maxFrameBytes` option (a positive integer not over 2^32 - 1). */
export function checkMaxFrameBytes(value: number | undefined): number {
  const max = value ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isSafeInteger(max) || max < 1 || max > 0xffffffff) {
    throw new ValidationError('maxFrameBytes must be an integer between 1 and 4294967295');
  }
  return max;
}

/**
 * Frames an encoded message: 4-byte big-endian length, then the bytes (one copy, one
 * allocation). Throws `FrameTooLargeError` when `body` is over `maxFrameBytes`.
 */
export function encodeFrame(body: Uint8Array, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): Buffer {
  if (body.byteLength > maxFrameBytes) throw new FrameTooLargeError(body.byteLength, maxFrameBytes);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/** Called with each complete frame body. The view is only valid during the call (copy to keep). */
export type FrameHandler = (body: Uint8Array) => void;

/**
 * Splits a byte stream into frames: handles frames cut across reads and many frames per read.
 *
 * Memory is bounded: complete frames inside a chunk are handed out as views of that chunk (no
 * copy); only the unfinished tail of the stream is kept, and it is never more than one frame
 * (at most `maxFrameBytes + 4` bytes). Storage grows with the bytes actually received, never
 * with what a length prefix claims, so a peer announcing a large frame and sending nothing
 * costs nothing.
 *
 * A length prefix over `maxFrameBytes` makes `push` throw `FrameTooLargeError` before anything
 * is buffered for it; the decoder is then failed (every later `push` throws the same error):
 * the stream cannot be resynchronised and the caller must close the connection.
 */
export class FrameDecoder {
  /** Largest frame body accepted. */
  readonly maxFrameBytes: number;
  // Unfinished tail: chunks (views) holding the start of the next frame, in order.
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  // Body length of the frame being assembled, or -1 while its prefix is incomplete.
  #need = -1;
  #failed: FrameTooLargeError | undefined;

  constructor(options: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes);
  }

  /** Bytes held for an unfinished frame (always <= maxFrameBytes + 4). */
  get bufferedBytes(): number {
    return this.#partBytes;
  }

  /** Whether a frame has been started but not finished (a cut frame when the stream ends). */
  get hasPartialFrame(): boolean {
    return this.#partBytes > 0;
  }

  /** The error that failed this decoder, if any. */
  get error(): FrameTooLargeError | undefined {
    return this.#failed;
  }

  /**
   * Feeds bytes; calls `onFrame` for every frame they complete, in order. Throws
   * `FrameTooLargeError` on an oversize length prefix (frames before it are delivered first).
   */
  push(chunk: Uint8Array, onFrame: FrameHandler): void {
    if (this.#failed) throw this.#failed;
    if (chunk.byteLength === 0) return;
    let pos = 0;
    if (this.#partBytes > 0) {
      pos = this.#continuePartial(chunk, onFrame);
      if (pos < 0) return;
    }
    // Fast path: whole frames straight out of the chunk.
    const len = chunk.byteLength;
    while (len - pos >= FRAME_HEADER_BYTES) {
      const size = ((chunk[pos]! << 24) >>> 0) + (chunk[pos + 1]! << 16) + (chunk[pos + 2]! << 8) + chunk[pos + 3]!;
      if (size > this.maxFrameBytes) this.#fail(size);
      const end = pos + FRAME_HEADER_BYTES + size;
      if (end > len) {
        this.#need = size;
        break;
      }
      // A plain Uint8Array view: cheaper to make than Buffer#subarray (no Buffer subclass).
      onFrame(new Uint8Array(chunk.buffer, chunk.byteOffset + pos + FRAME_HEADER_BYTES, size));
      pos = end;
    }
    if (pos < len) this.#keep(chunk.subarray(pos));
  }

  /** Forgets any unfinished frame (for reuse after a connection ends). Returns the bytes dropped. */
  reset(): number {
    const dropped = this.#partBytes;
    this.#parts = [];
    this.#partBytes = 0;
    this.#need = -1;
    this.#failed = undefined;
    return dropped;
  }

  #keep(view: Uint8Array): void {
    // Keep a copy: the caller's chunk may be a pooled buffer reused after this call.
    this.#parts.push(Uint8Array.prototype.slice.call(view));
    this.#partBytes += view.byteLength;
  }

  #fail(size: number): never {
    this.#parts = [];
    this.#partBytes = 0;
    this.#failed = new FrameTooLargeError(size, this.maxFrameBytes);
    throw this.#failed;
  }

  // Completes the pending frame with the start of `chunk`. Returns where the rest of the
  // chunk starts, or -1 when the whole chunk was absorbed.
  #continuePartial(chunk: Uint8Array, onFrame: FrameHandler): number {
    let pos = 0;
    if (this.#need < 0) {
      // Prefix incomplete (fewer than 4 bytes held): take just enough to read it.
      const missing = FRAME_HEADER_BYTES - this.#partBytes;
      if (chunk.byteLength < missing) {
        this.#keep(chunk);
        return -1;
      }
      const head = concat(this.#parts, this.#partBytes);
      const hdr = new Uint8Array(FRAME_HEADER_BYTES);
      hdr.set(head, 0);
      hdr.set(chunk.subarray(0, missing), head.byteLength);
      const size = new DataView(hdr.buffer).getUint32(0);
      if (size > this.maxFrameBytes) this.#fail(size);
      this.#need = size;
      this.#parts = [hdr];
      this.#partBytes = FRAME_HEADER_BYTES;
      pos = missing;
    }
    const total = FRAME_HEADER_BYTES + this.#need;
    const missing = total - this.#partBytes;
    if (chunk.byteLength - pos < missing) {
      this.#keep(chunk.subarray(pos));
      return -1;
    }
    const parts = this.#parts;
    parts.push(chunk.subarray(pos, pos + missing));
    const frame = concat(parts, total);
    this.#parts = [];
    this.#partBytes = 0;
    this.#need = -1;
    onFrame(frame.subarray(FRAME_HEADER_BYTES));
    return pos + missing;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  return parts.length === 1 ? parts[0]! : concatBytes(...parts).subarray(0, total);
}
