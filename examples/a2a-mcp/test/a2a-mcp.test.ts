import { describe, expect, it } from 'vitest';
import { runExample } from '../../../test/support/run-example.js';

describe('examples/a2a-mcp', () => {
  it('runs as a program: an A2A request is answered by an LLM worker through an MCP tool, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    expect(stdout).toMatch(/^mcp: calc__multiply listed, pinned [0-9a-f]{16}…$/m);
    expect(stdout).toMatch(/^a2a: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(stdout).toMatch(/^a2a card: "math desk" signed by [0-9a-f]{16}… \(the pool owner: true\)$/m);
    expect(stdout).toMatch(/^a2a task \S+: submitted$/m);
    expect(stdout).toContain('a2a artifact: "17 × 23 = 391"');
    expect(stdout).toMatch(/^a2a status: completed$/m);
    expect(lines.at(-1)).toMatch(/^summary: mcp calls ok 1, model calls \d+, a2a task completed, answer "17 × 23 = 391", OK$/);
  });
});
