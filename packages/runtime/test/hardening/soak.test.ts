// CI soak: the scenario of bench/suites/soak.ts (16 agents on a LocalHub, steady tasks and
// messages) for SOAK_SECONDS (default 20). After the warm-up (first 30%), RSS and heapUsed (median of the last third against the first third)
// (sampled every second after a full GC) must grow by less than 10%. The growth bound is the
// requirement (the only timing-dependent assertion here); throughput is only reported.
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../../../bench/suites/soak.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 20);

describe('soak', () => {
  it(
    `16 agents, steady mixed traffic for ${SECONDS} s: memory growth after warm-up < 10%`,
    async () => {
      const r = await runSoak({ seconds: SECONDS });
      console.log(
        `[soak] ${r.tasks} tasks, ${r.messages} messages; ${r.tasksPerS.toFixed(0)} tasks/s, ${r.msgsPerS.toFixed(0)} msgs/s; ` +
          `growth after warm-up: rss ${r.rssGrowthPct.toFixed(1)}%, heap ${r.heapGrowthPct.toFixed(1)}%`,
      );
      expect(r.tasks).toBeGreaterThan(0);
      expect(r.messages).toBeGreaterThan(r.tasks);
      expect(r.heapGrowthPct).toBeLessThan(10);
      expect(r.rssGrowthPct).toBeLessThan(10);
    },
    (SECONDS + 30) * 1000,
  );
});
