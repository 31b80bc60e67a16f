import { describe, expect, it } from 'vitest';
import { isStartable, nowOf, start, stop, systemClock, type Clock, type Startable } from '@converge/core';

function recorder(name: string, log: string[], withHooks = true): Startable {
  const hooks = withHooks
    ? {
        beforeStart: () => {
          log.push(`${name}.beforeStart`);
        },
        afterStart: async () => {
          log.push(`${name}.afterStart`);
        },
        beforeStop: () => {
          log.push(`${name}.beforeStop`);
        },
        afterStop: () => {
          log.push(`${name}.afterStop`);
        },
      }
    : {};
  return {
    ...hooks,
    start: async () => {
      log.push(`${name}.start`);
    },
    stop: () => {
      log.push(`${name}.stop`);
    },
  };
}

describe('start / stop', () => {
  it('runs each phase for every component before the next phase', async () => {
    const log: string[] = [];
    await start(recorder('a', log), recorder('b', log, false), 'not startable', undefined);
    expect(log).toEqual(['a.beforeStart', 'a.start', 'b.start', 'a.afterStart']);
    log.length = 0;
    await stop(recorder('a', log), recorder('b', log));
    expect(log).toEqual(['a.beforeStop', 'b.beforeStop', 'a.stop', 'b.stop', 'a.afterStop', 'b.afterStop']);
  });

  it('rejects with the first failure and skips the later phases', async () => {
    const log: string[] = [];
    const failing: Startable = {
      start: () => {
        throw new Error('boom');
      },
      stop: () => {},
    };
    await expect(start(recorder('a', log), failing)).rejects.toThrow('boom');
    expect(log).not.toContain('a.afterStart');
  });

  it('isStartable needs both start and stop', () => {
    expect(isStartable({ start() {}, stop() {} })).toBe(true);
    expect(isStartable({ start() {} })).toBe(false);
    expect(isStartable(null)).toBe(false);
  });
});

describe('Clock', () => {
  it('systemClock reads the wall clock and its timers fire and clear', async () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    const fired: string[] = [];
    const cleared = systemClock.setTimeout(() => fired.push('cleared'), 1);
    systemClock.clearTimeout(cleared);
    await new Promise<void>((resolve) =>
      systemClock.setTimeout(() => {
        fired.push('timeout');
        resolve();
      }, 2),
    );
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const t = systemClock.setInterval(() => {
        if (++ticks === 2) {
          systemClock.clearInterval(t);
          resolve();
        }
      }, 1);
    });
    expect(fired).toEqual(['timeout']);
    expect(ticks).toBe(2);
  });

  it('nowOf takes a Clock, a bare function or nothing', () => {
    const fixed: Clock = { ...systemClock, now: () => 42 };
    expect(nowOf(fixed)()).toBe(42);
    expect(nowOf(() => 7)()).toBe(7);
    expect(nowOf()).toBe(Date.now);
  });
});
