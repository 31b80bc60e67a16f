import { describe, expect, it } from 'vitest';
import { runExample } from '../../../test/support/run-example.js';

describe('examples/tool-outcomes', () => {
  it('runs as a program: the tool result, a timeout, a refusal and a lost claim reach the next decide, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    expect(stdout).toContain('turn 1: decided InvokeTool add, InvokeTool slow, InvokeTool shell, ClaimTask');
    expect(stdout).toContain('turn 2: outcome tool add -> ok {"sum":5}');
    expect(stdout).toMatch(/turn 2: outcome tool slow -> timeout \(TimeoutError: tool slow timed out after 100 ms\)/);
    expect(stdout).toMatch(/turn 2: outcome tool shell -> refused \(PolicyError: tool shell is not in the allowlist\)/);
    expect(stdout).toMatch(/turn 2: outcome ClaimTask \S+ -> conflict \(ConflictError: /);
    expect(stdout).toContain('turn 2: decided InvokeTool add with the previous sum 5');
    expect(stdout).toContain('turn 3: outcome tool add -> ok {"sum":15}');
    expect(lines.at(-1)).toBe('summary: ok 2, timeout 1, refused 1, conflict 1, OK');
  });
});
