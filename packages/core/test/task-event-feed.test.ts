import { describe, expect, it } from 'vitest';
import { AbortError, parseTaskEvent, TaskEventFeed, type TaskQueueEvent } from '@converge/core';

const ev = (taskId: string, poolId: string, state: TaskQueueEvent['state'] = 'pending'): TaskQueueEvent => ({ taskId, poolId, state, attempt: 1 });
const parse = (s: string): TaskQueueEvent | null => {
  const [taskId, poolId, state] = s.split(' ');
  return taskId && poolId && state ? ev(taskId, poolId, state as TaskQueueEvent['state']) : null;
};

describe('TaskEventFeed', () => {
  it('delivers parsed events to watch channels and counts payloads that are not events', async () => {
    const feed = new TaskEventFeed();
    const ac = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of feed.watch({ signal: ac.signal })) {
        seen.push(`${e.taskId}:${e.state}`);
        if (seen.length === 2) ac.abort();
      }
    })();
    feed.deliver('junk', parse);
    feed.deliver('a p pending', parse);
    feed.deliver('', parse);
    feed.deliver('a p running', parse);
    await reading;
    expect(seen).toEqual(['a:pending', 'a:running']);
    expect(feed.badEvents).toBe(2);
  });

  it('does not parse (or count) payloads while nobody listens', () => {
    const feed = new TaskEventFeed();
    let parsed = 0;
    feed.deliver('junk', (s) => (parsed++, parse(s)));
    expect(parsed).toBe(0);
    expect(feed.badEvents).toBe(0);
  });

  it('waitForPending wakes on a pending task of its pool or on wakeAll, not on other pools or states', async () => {
    const feed = new TaskEventFeed();
    const waiting = feed.waitForPending(20_000, 'p');
    feed.deliver('x q pending', parse); // another pool
    feed.deliver('x p running', parse); // not pending
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    feed.deliver('y p pending', parse);
    expect(await waiting).toBe(true);

    const again = feed.waitForPending(20_000, 'p');
    feed.wakeAll();
    expect(await again).toBe(true);
    expect(await feed.waitForPending(10, 'p')).toBe(false); // time-out
    const ac = new AbortController();
    const aborted = feed.waitForPending(20_000, 'p', ac.signal);
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
  });

  it('parseTaskEvent reads [state, attempt, poolId, taskId] and nothing else', () => {
    expect(parseTaskEvent('["pending", 1, "p", "t"]')).toEqual({ taskId: 't', poolId: 'p', state: 'pending', attempt: 1 });
    for (const bad of [
      'not json',
      '["pending", 1, "p"]',
      '["exploded", 1, "p", "x"]',
      '["pending", 1.5, "p", "x"]',
      '["pending", "1", "p", "x"]',
      '["pending", 1, 2, "x"]',
      '{"a":1}',
      '"abcd"',
      'null',
    ]) {
      expect(parseTaskEvent(bad), bad).toBeNull();
    }
  });

  it('deliver parses with parseTaskEvent by default', async () => {
    const feed = new TaskEventFeed();
    const waiting = feed.waitForPending(20_000, 'p');
    feed.deliver('["exploded", 1, "p", "x"]');
    feed.deliver('["pending", 1, "p", "x"]');
    expect(await waiting).toBe(true);
    expect(feed.badEvents).toBe(1);
  });

  it('closeAll ends every watch channel', async () => {
    const feed = new TaskEventFeed();
    const channels = [feed.watch({}), feed.watch({ poolId: 'p' })];
    feed.closeAll();
    for (const ch of channels) {
      const got: TaskQueueEvent[] = [];
      for await (const e of ch) got.push(e);
      expect(got).toEqual([]);
    }
  });
});
