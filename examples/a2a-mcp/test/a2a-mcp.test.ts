import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');

describe('examples/a2a-mcp', () => {
  it('runs as a program: an A2A request is answered by an LLM worker through an MCP tool, exit 0', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@converge/source', resolve(here, '../src/main.ts')],
      { cwd: root, timeout: 60_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(stdout).toMatch(/^mcp: calc__multiply listed, pinned [0-9a-f]{16}…$/m);
    expect(stdout).toMatch(/^a2a: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(stdout).toMatch(/^a2a card: "math desk" signed by [0-9a-f]{16}… \(the pool owner: true\)$/m);
    expect(stdout).toMatch(/^a2a task \S+: submitted$/m);
    expect(stdout).toContain('a2a artifact: "17 × 23 = 391"');
    expect(stdout).toMatch(/^a2a status: completed$/m);
    expect(lines.at(-1)).toMatch(/^summary: mcp calls ok 1, model calls \d+, a2a task completed, answer "17 × 23 = 391", OK$/);
  });
});
