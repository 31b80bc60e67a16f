import { describe, expect, it } from 'vitest';
import { runExample } from '../../../test/support/run-example.js';

describe('examples/task-pool', () => {
  it('runs as a program: 100 tasks, each completed once with a checked result, split among 3 workers, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    expect(stdout).not.toContain('WRONG');
    const counts = lines.map((l) => /^(worker-\d): (\d+) tasks$/.exec(l)).filter((m) => m !== null);
    expect(counts.map((m) => m[1])).toEqual(['worker-1', 'worker-2', 'worker-3']);
    expect(counts.reduce((sum, m) => sum + Number(m[2]), 0)).toBe(100);
    expect(stdout).toMatch(/^claims won: 100, claim races lost \(skipped safely\): \d+, completed: 100$/m);
    expect(stdout).toContain('reports received by the coordinator: 100 (verified 100, rejected 0, duplicates 0)');
    expect(lines.at(-1)).toBe('summary: 100 of 100 tasks completed and checked, OK');
  });
});
