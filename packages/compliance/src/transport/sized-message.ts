import { ValidationError, createMessage, encodeMessage, type Message, type MessageInit } from '@converge/core';

/**
 * A message whose `encodeMessage(...).byteLength` is exactly `size`, built from `init` by
 * padding the payload (`{ pad: 'xxx…', fill: 'yy' }`; a string header grows at 32, 256 and
 * 65,536 characters, so the second field absorbs the steps). `finish` (e.g. signing) is
 * applied before measuring, so it may change the size by a fixed amount only.
 */
export function messageOfEncodedSize(init: MessageInit, size: number, finish: (m: Message) => Message = (m) => m): Message {
  const build = (n: number, extra: number): Message => finish(createMessage({ ...init, payload: { pad: 'x'.repeat(n), fill: 'y'.repeat(extra) } }));
  for (let extra = 0; extra < 8; extra++) {
    const base = encodeMessage(build(0, extra)).byteLength;
    if (base > size) break;
    let n = size - base;
    for (let i = 0; i < 4; i++) {
      const got = encodeMessage(build(n, extra)).byteLength;
      if (got === size) return build(n, extra);
      n += size - got;
      if (n < 0) break;
    }
  }
  throw new ValidationError(`cannot build a message of exactly ${size} encoded bytes from this template`);
}
