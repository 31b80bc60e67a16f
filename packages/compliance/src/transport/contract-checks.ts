// Checks that catch three broken implementations the first suite let through: an async
// iterator that ends at once, a send to an unknown recipient that silently resolves, and an
// unsubscribe that does nothing.
import { expect } from 'vitest';
import { createTopic } from '@converge/core';
import { ComplianceTimeoutError, rejectionOf } from './bounds.js';
import type { TransportCheck } from './check.js';
import type { TransportCheckContext } from './context.js';
import type { TransportCapabilities } from './options.js';

/** The recipient no transport of the pair answers to. */
export const UNKNOWN_RECIPIENT = 'converge-compliance-nobody';

const iterates: TransportCheck['run'] = async (ctx) => {
  const { pair } = ctx;
  await ctx.start();
  const sent = [0, 1, 2].map((i) => ctx.msg({ payload: { seq: i } }));
  for (const m of sent) await ctx.settle(pair.a.send(m), 'a.send() did not settle');
  const iterator = pair.b[Symbol.asyncIterator]();
  for (const m of sent) {
    const r = await ctx.settle(iterator.next(), 'the async iterator did not yield a message that was sent to it');
    if (r.done) throw new Error('the async iterator ended while the transport was running and messages were waiting: it must yield them until stop()');
    expect(r.value.id).toBe(m.id);
  }
  const pending = iterator.next();
  await ctx.settle(pair.b.stop(), 'b.stop() did not settle while the iterator was waiting');
  const end = await ctx.settle(pending, 'the async iterator did not end when the transport stopped');
  expect(end.done, 'the async iterator yielded a value after stop() instead of ending').toBe(true);
};

async function expectRefused(ctx: TransportCheckContext, side: 'a' | 'b'): Promise<void> {
  const { pair } = ctx;
  await ctx.start();
  // One a -> b message first: a server learns (and may authenticate) its client from it, so
  // the marker below has a route while the unknown recipient still has none.
  const hello = ctx.msg({ payload: 'hello' });
  await ctx.settle(pair.a.send(hello), 'a.send() did not settle');
  await ctx.expectMessage(pair.b, 'a directed message from a at b');
  const [from, fromId, other, otherId] = side === 'a' ? [pair.a, pair.aId, pair.b, pair.bId] : [pair.b, pair.bId, pair.a, pair.aId];
  const stray = ctx.msgFrom(fromId, UNKNOWN_RECIPIENT, { payload: 'to nobody' });
  const err = await rejectionOf(
    ctx.settle(from.send(stray), `${side}.send() to an unknown recipient did not settle`),
    `${side}.send() to the unknown recipient ${UNKNOWN_RECIPIENT} resolved: it must reject with a typed error (TransportError), not drop the message silently`,
  );
  if (err instanceof ComplianceTimeoutError) throw err;
  expect(err, 'a send to an unknown recipient must reject with a TransportError (a typed error with a code)').toMatchObject({
    name: 'TransportError',
    code: expect.any(String),
  });
  // The transport still works, and the stray message reached no one.
  const marker = ctx.msgFrom(fromId, otherId, { payload: 'marker' });
  await ctx.settle(from.send(marker), `${side}.send() after a refused send did not settle`);
  const got = await ctx.expectMessage(other, 'the marker sent after a refused send');
  expect(got.id, 'a message to an unknown recipient was delivered to another agent').toBe(marker.id);
}

async function expectNotMisdelivered(ctx: TransportCheckContext): Promise<void> {
  const { pair } = ctx;
  await ctx.start();
  const stray = ctx.msg({ recipient: UNKNOWN_RECIPIENT, payload: 'to nobody' });
  // A broker cannot tell: resolving is allowed here; a rejection must still be typed.
  await ctx.settle(pair.a.send(stray), 'a.send() to an unknown recipient did not settle').catch((err: unknown) => {
    expect(err).toMatchObject({ name: 'TransportError' });
  });
  const marker = ctx.msg({ payload: 'marker' });
  await ctx.settle(pair.a.send(marker), 'a.send() did not settle');
  const got = await ctx.expectMessage(pair.b, 'the marker sent after a message to an unknown recipient');
  expect(got.id, 'a message to an unknown recipient was delivered to another agent').toBe(marker.id);
}

const unsubscribes: TransportCheck['run'] = async (ctx) => {
  const { pair } = ctx;
  const c = pair.c;
  if (!c) {
    throw new Error('the unsubscribe check needs a third transport: return `c` from createPair, or set capabilities.topics to false');
  }
  pair.b.subscribe!('news');
  c.subscribe!('news');
  await ctx.start();
  await ctx.settle(c.start(), 'c.start() did not settle');
  pair.b.unsubscribe!('news');
  // A directed b -> a round trip after unsubscribing: a broker handles b's requests in order,
  // so b's unsubscribe has reached it before a sends the topic message.
  const sync = ctx.msgFrom(pair.bId, pair.aId, { payload: 'sync' });
  await ctx.settle(pair.b.send(sync), 'b.send() did not settle');
  await ctx.expectMessage(pair.a, 'a directed message from b at a');
  const news = ctx.msg({ recipient: null, topics: [createTopic('news', {})], payload: 'after unsubscribe' });
  await ctx.settle(pair.a.send(news), 'a.send() of a topic message did not settle');
  expect((await ctx.expectMessage(c, 'the topic message at the remaining subscriber c')).id).toBe(news.id);
  await ctx.expectNothing(pair.b, 200, 'b received a message of namespace "news" after unsubscribe("news"): unsubscribe must stop that delivery');
};

/** The iterator, unknown-recipient and unsubscribe checks. */
export function contractChecks(caps: Required<TransportCapabilities>, guard: number): TransportCheck[] {
  const side = caps.refusesUnknownRecipient;
  return [
    { title: 'yields sent messages from its async iterator and ends it when the transport stops', enabled: true, timeoutMs: guard, run: iterates },
    side === false
      ? {
          title: 'delivers a message to an unknown recipient to no one else',
          enabled: true,
          timeoutMs: guard,
          run: expectNotMisdelivered,
        }
      : {
          title: 'refuses a send to an unknown recipient with a TransportError and delivers it to no one',
          enabled: true,
          timeoutMs: guard,
          run: (ctx) => expectRefused(ctx, side),
        },
    { title: 'stops delivering a namespace after unsubscribe', enabled: caps.topics, timeoutMs: guard, run: unsubscribes },
  ];
}
