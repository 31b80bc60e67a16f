import { describe, expect, it } from 'vitest';
import { runExample } from '../../../test/support/run-example.js';

describe('examples/ping-pong', () => {
  it('runs as a program: 10 verified round trips in order, the intruder refused, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    const trips = lines.filter((l) => l.startsWith('round trip #'));
    expect(trips).toHaveLength(10);
    expect(trips.map((l) => Number(/#(\d+)/.exec(l)![1]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const l of trips) expect(l).toMatch(/^round trip #\d+: ping -> pong -> back in \d+\.\d\d ms$/);
    expect(stdout).toContain('pongs served: 10; messages verified: 20 (pinger 10, ponger 10); rejected: 1');
    expect(stdout).toContain("intruder's ping refused (unknown sender): yes");
    expect(stdout).not.toContain('problem:');
    expect(lines.at(-1)).toBe('summary: 10 of 10 round trips, OK');
  });
});
