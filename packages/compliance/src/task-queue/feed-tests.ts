// The event feed of an engine that has one: wake-ups-only notification still wakes claims and
// feeds watch with pending tasks; payloads on the feed that are not events are counted, not fatal.
import { setTimeout as delay } from 'node:timers/promises';
import { expect, it } from 'vitest';
import type { TaskQueue } from '@converge/core';
import { eventually } from '../store/eventually.js';
import type { TaskQueueComplianceOptions } from './fixture.js';
import { useSuiteContext } from './context.js';

/** Payloads that are not events: not JSON, too short, an unknown state, not an array. */
const JUNK = ['not json', '["pending", 1, "p"]', '["exploded", 1, "p", "x"]', '{"a":1}'];

/** Registers the feed tests (each skipped when the fixture does not give what it needs). */
export function feedTests(options: TaskQueueComplianceOptions): void {
  const ctx = useSuiteContext(options);

  it('a wake-ups-only client: a waiting claim is still woken, and watch hears only tasks entering pending', async (t) => {
    const { fixture } = ctx();
    if (!fixture.openWakeUpsOnly) return t.skip();
    const q: TaskQueue = await fixture.openWakeUpsOnly();
    await q.start();
    const ac = new AbortController();
    try {
      const seen: string[] = [];
      const reading = (async () => {
        for await (const e of q.watch({ signal: ac.signal })) seen.push(`${e.taskId}:${e.state}`);
      })();
      const waiting = q.claim({ agentId: 'a', poolId: 'p', waitMs: 20_000 });
      await delay(50);
      await q.submit({ id: 'w1', objective: 'o', poolId: 'p' });
      const [c] = await waiting;
      expect(c!.task.id).toBe('w1');
      await q.report(c!.lease, 1);
      await q.submit({ id: 'w2', objective: 'o', poolId: 'p' });
      expect(await eventually(() => seen.length >= 2)).toBe(true);
      ac.abort();
      await reading;
      expect(seen).toEqual(['w1:pending', 'w2:pending']);
    } finally {
      ac.abort();
      await q.stop();
    }
  });

  it('a payload on the event feed that is not an event is ignored and counted; watch goes on', async (t) => {
    const { fixture, queue } = ctx();
    const feed = fixture.feed;
    if (!feed) return t.skip();
    const ac = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of queue.watch({ signal: ac.signal })) {
        seen.push(`${e.taskId}:${e.state}`);
        ac.abort();
      }
    })();
    for (const junk of JUNK) await feed.publish(junk);
    await queue.submit({ id: 'ok', objective: 'o', poolId: 'p' });
    await reading;
    expect(seen).toEqual(['ok:pending']);
    expect(feed.badEvents(queue)).toBe(JUNK.length);
  });
}
