// The decoder's fast path and its caches of recurring strings and topic lists: the same bytes
// always decode to equal, independent values, and a cached entry never stands in for other bytes.
import { describe, expect, it } from 'vitest';
import * as core from '@converge/core';

const { Float64, Identity, createMessage, createTopic, decodeMessage, decodeValue, encodeMessage, encodeValue, signMessage, verifyMessage } = core;
const [alice, bob] = [Identity.generate(), Identity.generate()];

function signed(topics = [createTopic('tasks', { type: 'compute', n: 3 })], payload = { seq: 1, note: 'x'.repeat(40) }) {
  return signMessage(createMessage({ recipient: bob.fingerprint, topics, payload }), alice);
}

describe('decoding recurring messages', () => {
  it('gives every decode its own topics, attributes and payload', () => {
    const bytes = encodeMessage(signed());
    const a = decodeMessage(bytes);
    const b = decodeMessage(bytes);
    expect(b).toEqual(a);
    expect(b.topics[0]).not.toBe(a.topics[0]);
    expect(b.topics[0]!.attributes).not.toBe(a.topics[0]!.attributes);
    (a.topics[0]!.attributes as Record<string, unknown>).type = 'changed';
    a.topics[0]!.namespace = 'other';
    const c = decodeMessage(bytes);
    expect(c.topics[0]).toEqual({ namespace: 'tasks', attributes: { type: 'compute', n: 3 }, version: '1.0' });
    expect(verifyMessage(c, alice)).toBe(true);
  });

  it('tells apart topic lists and fingerprints that share their first, middle and last bytes', () => {
    const m1 = decodeMessage(encodeMessage(signed([createTopic('tasks', { type: 'compute1' })])));
    const m2 = decodeMessage(encodeMessage(signed([createTopic('tasks', { type: 'compute2' })])));
    expect(m1.topics[0]!.attributes).toEqual({ type: 'compute1' });
    expect(m2.topics[0]!.attributes).toEqual({ type: 'compute2' });
    const fp = alice.fingerprint;
    const twin = fp.slice(0, 10) + (fp[10] === 'a' ? 'b' : 'a') + fp.slice(11);
    for (const sender of [fp, twin, fp]) {
      const m = decodeMessage(encodeMessage(createMessage({ sender, recipient: sender, payload: { [sender.slice(0, 20)]: 1 } })));
      expect(m.sender).toBe(sender);
      expect(m.recipient).toBe(sender);
      expect(Object.keys(m.payload as object)).toEqual([sender.slice(0, 20)]);
    }
  });

  it('keeps Float64 attributes out of the topic cache (each decode has its own)', () => {
    const bytes = encodeMessage(signed([createTopic('t', { x: new Float64(2) })]));
    const a = decodeMessage(bytes);
    const b = decodeMessage(bytes);
    expect((a.topics[0]!.attributes as Record<string, core.Float64>).x).not.toBe((b.topics[0]!.attributes as Record<string, core.Float64>).x);
    expect(String(b.topics[0]!.attributes instanceof Map)).toBe('false');
  });

  it('reads the same message from the canonical layout and from a reordered one', () => {
    const m = signed();
    const canonical = decodeMessage(encodeMessage(m));
    // The same fields, keys in reverse order: the general path reads it.
    const fields = decodeValue(encodeMessage(m)) as Record<string, unknown>;
    const reversed = Object.fromEntries(Object.entries(fields).reverse());
    const other = decodeMessage(encodeValue(reversed));
    expect(other).toEqual(canonical);
    expect(verifyMessage(other, alice)).toBe(true);
  });
});
