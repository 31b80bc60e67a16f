import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');

describe('examples/hello', () => {
  it('runs as a program: four verified messages, forgery and replay refused, exit 0', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@converge/source', resolve(here, '../src/main.ts')],
      { cwd: root, timeout: 60_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines.filter((l) => / -> .*verified: yes/.test(l))).toHaveLength(4);
    expect(stdout).toContain('alice -> bob: "hello, bob" verified: yes');
    expect(stdout).toContain('bob -> alice: "fine, thanks" verified: yes');
    expect(stdout).toContain('forged message refused: yes; replayed message refused: yes');
    expect(lines.at(-1)).toBe('summary: 4 of 4 messages verified, 2 of 2 bad messages refused, OK');
  });
});
