import { setTimeout as pause } from 'node:timers/promises';
import { expect } from 'vitest';
import type { Message } from '@converge/core';
import { LONG_GUARD_MS } from './basic-checks.js';
import { within } from './bounds.js';
import type { TransportCheck } from './check.js';
import type { TransportUnderTest } from './contract.js';

/** Sends in flight at once in the slow-consumer check (each window is awaited before the next). */
const SEND_WINDOW = 256;
/** Most messages the slow consumer takes per batch before it pauses. */
const BATCH = 32;
/** The consumer's pause after each batch, ms (standing for verification or work elsewhere). */
const PAUSE_MS = 2;

// A message already waiting, without blocking (`tryReceive` where the transport has it).
function takeWaiting(t: TransportUnderTest): Message | null {
  return t.tryReceive ? t.tryReceive() : null;
}

const slowConsumer =
  (count: number): TransportCheck['run'] =>
  async (ctx) => {
    const { pair } = ctx;
    await ctx.start();
    const sending = (async () => {
      for (let from = 0; from < count; from += SEND_WINDOW) {
        const window: Promise<void>[] = [];
        for (let i = from; i < Math.min(count, from + SEND_WINDOW); i++) window.push(pair.a.send(ctx.msg({ payload: { seq: i } })));
        // A receiver applying backpressure slows these sends; the bound only catches a hang.
        await within(Promise.all(window), ctx.bounds.receiveMs, `a window of sends from message ${from} did not settle while the receiver was slow`);
      }
    })();
    sending.catch(() => undefined); // awaited below; keeps an early failure from being "unhandled"
    // Like a consumer verifying on a worker pool: one blocking receive, the rest of the batch
    // from what is already waiting, then a pause.
    const seqs: number[] = [];
    while (seqs.length < count) {
      const first = await ctx.receiveBounded(pair.b, 'in the slow consumer');
      if (first === null) break;
      const batch = [first];
      for (let m = takeWaiting(pair.b); m !== null; m = batch.length < BATCH ? takeWaiting(pair.b) : null) batch.push(m);
      for (const m of batch) seqs.push((m.payload as { seq: number }).seq);
      await pause(PAUSE_MS);
    }
    expect(seqs.length, `the receiver stalled or lost messages under a slow consumer: ${seqs.length} of ${count} arrived`).toBe(count);
    await sending;
    const firstWrong = seqs.findIndex((s, i) => s !== i);
    expect(firstWrong, `message ${firstWrong} arrived out of order (seq ${seqs[firstWrong]})`).toBe(-1);
    await ctx.expectNothing(pair.b, 20, 'a message arrived after all were received: duplicated delivery');
  };

/**
 * The slow-consumer check (capability `backpressure`): `count` messages sent in windows while
 * the receiver takes them in batches with a pause after each, so a receive queue with a small
 * bound fills, pauses its inbound connection and resumes it many times. Every message must
 * arrive, in order, none twice, within the suite's bounds (hang guards, not timing goals).
 */
export function slowConsumerCheck(count: number, enabled: boolean): TransportCheck {
  return {
    title: 'a slow consumer gets every message, in order, while backpressure pauses and resumes the sender',
    enabled,
    timeoutMs: LONG_GUARD_MS,
    run: slowConsumer(count),
  };
}
