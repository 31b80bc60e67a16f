/**
 * Where a message keeps its payload's msgpack bytes (the bytes it was decoded from, or the
 * encoding made when it was first signed or encoded): a private slot stamped onto the message
 * object itself. The message stays a plain frozen object (prototype `Object.prototype`, the
 * same keys, nothing visible to `Object.keys`, spreads, `JSON.stringify`, `util.inspect` or
 * deep equality), while reading and writing the slot costs a few nanoseconds, where a WeakMap
 * entry costs hundreds and burdens the GC. A spread copy (`{ ...msg, payload }`) has no
 * slot, so a changed copy is never sent with a stale payload encoding.
 *
 * The slot is added by the standard "return override" pattern: a base constructor that returns
 * the given object makes the subclass install its private field on that object.
 */
import type { Message } from './message.js';

class Stamp {
  constructor(target: object) {
    return target as Stamp;
  }
}

class PayloadSlot extends Stamp {
  #bytes: Uint8Array | undefined;

  private constructor(target: object, bytes: Uint8Array | undefined) {
    super(target);
    this.#bytes = bytes;
  }

  // Must run before the object is frozen (a private field cannot be added afterwards in
  // engines that apply non-extensibility to private fields; it can always be updated).
  static attach(target: object, bytes: Uint8Array | undefined): void {
    new PayloadSlot(target, bytes);
  }

  static get(target: object): Uint8Array | undefined {
    return #bytes in target ? (target as PayloadSlot).#bytes : undefined;
  }

  static keep(target: object, bytes: Uint8Array): boolean {
    if (!(#bytes in target)) return false;
    (target as PayloadSlot).#bytes ??= bytes;
    return true;
  }
}

/** Freezes `fields` as a message with a payload slot (holding `payloadBytes`, if given). */
export function sealMessage(fields: Message, payloadBytes?: Uint8Array): Message {
  PayloadSlot.attach(fields, payloadBytes);
  return Object.freeze(fields);
}

/**
 * The payload's msgpack bytes, when already known: the bytes a decoded message arrived with,
 * or the encoding made when the message was signed or encoded. `undefined` otherwise.
 */
export function rawPayloadOf(msg: Message): Uint8Array | undefined {
  return PayloadSlot.get(msg);
}

/** Keeps `bytes` as the payload encoding of `msg` (the first one wins); false if `msg` has no slot. */
export function keepPayloadBytes(msg: Message, bytes: Uint8Array): boolean {
  return PayloadSlot.keep(msg, bytes);
}
