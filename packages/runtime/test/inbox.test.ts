import { describe, expect, it } from 'vitest';
import { ConfigError, Identity, createMessage, encodeMessage, signMessage, type Message } from '@converge/core';
import { ResourceLimits } from '@converge/policy';
import { Inbox, type InboxDropReason } from '@converge/runtime';

const sender = Identity.generate();
const msg = (i: number, pad = ''): Message => signMessage(createMessage({ recipient: null, payload: { i, pad } }), sender);
const ids = (ms: readonly Message[]) => ms.map((m) => (m.payload as { i: number }).i);

function recording(options: ConstructorParameters<typeof Inbox>[0]) {
  const drops: [InboxDropReason, number][] = [];
  const inbox = new Inbox({ ...options, onDrop: (reason, m) => drops.push([reason, (m.payload as { i: number }).i]) });
  return { inbox, drops };
}

describe('Inbox overflow modes', () => {
  it('reject refuses the arriving message, keeps the queue and counts the refusal (not a drop)', () => {
    const { inbox, drops } = recording({ maxSize: 2, overflow: 'reject' });
    expect([inbox.offer(msg(1)), inbox.offer(msg(2)), inbox.offer(msg(3))]).toEqual([true, true, false]);
    expect(inbox.full).toBe(true);
    expect(inbox.rejected).toBe(1);
    expect(inbox.dropped).toBe(0);
    expect(drops).toEqual([]);
    expect(ids(inbox.poll())).toEqual([1, 2]);
  });

  it('drop-oldest evicts the oldest message, queues the new one and counts each eviction', () => {
    const { inbox, drops } = recording({ maxSize: 2, overflow: 'drop-oldest' });
    expect([1, 2, 3, 4].map((i) => inbox.offer(msg(i)))).toEqual([true, true, true, true]);
    expect(inbox.dropped).toBe(2);
    expect(drops).toEqual([
      ['drop-oldest', 1],
      ['drop-oldest', 2],
    ]);
    expect(ids(inbox.poll())).toEqual([3, 4]);
  });

  it('drop-newest discards the arriving message and counts it', () => {
    const { inbox, drops } = recording({ maxSize: 2, overflow: 'drop-newest' });
    expect([1, 2, 3].map((i) => inbox.offer(msg(i)))).toEqual([true, true, false]);
    expect(inbox.dropped).toBe(1);
    expect(drops).toEqual([['drop-newest', 3]]);
    expect(ids(inbox.poll())).toEqual([1, 2]);
  });

  it('is bounded by default and rejects bad options with ConfigError', () => {
    expect(new Inbox().maxSize).toBe(10_000);
    expect(new Inbox().overflow).toBe('reject');
    expect(() => new Inbox({ maxSize: 0 })).toThrow(ConfigError);
    expect(() => new Inbox({ maxSize: 1.5 })).toThrow(ConfigError);
    expect(() => new Inbox({ overflow: 'block' as never })).toThrow(ConfigError);
  });

  it('keeps FIFO order across ring-buffer growth and wrap-around, and polls in batches', () => {
    const inbox = new Inbox({ maxSize: 5_000 });
    for (let i = 0; i < 1_500; i++) inbox.offer(msg(i));
    expect(ids(inbox.poll(1_000))).toEqual([...Array(1_000).keys()]);
    for (let i = 1_500; i < 4_000; i++) inbox.offer(msg(i));
    expect(inbox.size).toBe(3_000);
    expect(ids(inbox.poll())).toEqual([...Array(3_000).keys()].map((i) => i + 1_000));
  });

  it('waitForSpace resolves once a poll makes room, or when aborted', async () => {
    const inbox = new Inbox({ maxSize: 1 });
    await inbox.waitForSpace(); // room: at once
    inbox.offer(msg(1));
    let resolved = false;
    const waiting = inbox.waitForSpace().then(() => (resolved = true));
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    inbox.poll();
    await waiting;
    expect(resolved).toBe(true);
    inbox.offer(msg(2));
    const ac = new AbortController();
    const aborted = inbox.waitForSpace(ac.signal);
    ac.abort();
    await aborted;
    expect(inbox.size).toBe(1);
  });

  it('discard counts what is left as dropped (stopped)', () => {
    const { inbox, drops } = recording({ maxSize: 10 });
    inbox.offer(msg(1));
    inbox.offer(msg(2));
    expect(inbox.discard()).toBe(2);
    expect(drops).toEqual([
      ['stopped', 1],
      ['stopped', 2],
    ]);
    expect(inbox.size).toBe(0);
  });
});

describe('Inbox byte accounting against ResourceLimits', () => {
  it("reserves each message's encoded size, releases it on poll, and refuses what does not fit", () => {
    const one = encodeMessage(msg(1)).byteLength;
    const limits = new ResourceLimits({ maxQueueBytes: Math.floor(one * 2.5) });
    const { inbox } = recording({ maxSize: 100, overflow: 'reject', limits });
    expect([1, 2, 3].map((i) => inbox.offer(msg(i)))).toEqual([true, true, false]);
    expect(inbox.bytes).toBe(encodeMessage(msg(1)).byteLength + encodeMessage(msg(2)).byteLength);
    expect(limits.stats().queuedBytes).toBe(inbox.bytes);
    expect(inbox.rejected).toBe(1);
    inbox.poll(1);
    expect(inbox.offer(msg(3))).toBe(true);
    inbox.poll();
    expect(limits.stats().queuedBytes).toBe(0);
    expect(inbox.bytes).toBe(0);
  });

  it('drop-oldest evicts until the new message fits the byte budget', () => {
    const small = encodeMessage(msg(1)).byteLength;
    const limits = new ResourceLimits({ maxQueueBytes: small * 3 });
    const { inbox, drops } = recording({ maxSize: 100, overflow: 'drop-oldest', limits });
    for (const i of [1, 2, 3]) inbox.offer(msg(i));
    const big = msg(4, 'x'.repeat(small)); // about two small messages' worth
    expect(inbox.offer(big)).toBe(true);
    expect(drops.map(([r]) => r).every((r) => r === 'drop-oldest')).toBe(true);
    expect(drops.length).toBeGreaterThanOrEqual(2);
    expect(limits.stats().queuedBytes).toBe(inbox.bytes);
    expect(ids(inbox.poll()).at(-1)).toBe(4);
  });

  it('drops (counted, too-large) a message bigger than the whole budget, whatever the mode', () => {
    const limits = new ResourceLimits({ maxQueueBytes: 64 });
    const { inbox, drops } = recording({ maxSize: 100, overflow: 'reject', limits });
    expect(inbox.offer(msg(1, 'y'.repeat(200)))).toBe(false);
    expect(drops).toEqual([['too-large', 1]]);
    expect(inbox.dropped).toBe(1);
    expect(limits.stats().queuedBytes).toBe(0);
  });
});
