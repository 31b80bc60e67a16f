import { describe, expect, it } from 'vitest';
import { Agent, Decisions, type Decision } from '@converge/core';
import { ReplayLog, replay } from '../src/index.js';

/** Decides from the time it reads: what `beforeStep` lets a replay reproduce. */
class Clocked extends Agent {
  constructor(readonly clock: () => number) {
    super();
  }
  decide(): Decision[] {
    return [Decisions.sendMessage('x', { at: this.clock() })];
  }
}

describe('replay beforeStep', () => {
  it("is called with each decision entry before decide, so the agent's clock can be the recorded turn time", async () => {
    let t = 1_000;
    const log = new ReplayLog({ now: () => t });
    const recorder = new Clocked(() => t);
    for (const at of [1_000, 2_000, 3_500]) {
      t = at;
      log.recordDecisions(recorder.id, recorder.decide());
    }
    let now = 0;
    const seen: number[] = [];
    const again = new Clocked(() => now);
    const ok = await replay(log, again, { beforeStep: (e) => (seen.push(e.at), (now = e.at)) });
    expect(seen).toEqual([1_000, 2_000, 3_500]);
    expect(ok.mismatches).toEqual([]);
    // Without it the clock is wrong and every step differs.
    const off = await replay(log, new Clocked(() => 0));
    expect(off.mismatches).toHaveLength(3);
  });
});
