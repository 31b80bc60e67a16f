// Without the interop vectors a run skips the suites that need them and prints one notice;
// with CI set the same run fails, naming the missing path. Runs vitest itself in a child
// process on one vectors test file, with CONVERGE_VECTORS pointing at a file that is not there.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const missing = join(root, 'no-such-dir', 'vectors.json');

/** Runs `vitest run packages/core/test/interop-vectors.test.ts`; resolves its exit code and output. */
function runVectorsFile(extraEnv: Record<string, string>): Promise<{ code: number; output: string }> {
  // The child must not think it is a vitest worker, nor inherit this run's CI setting.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'CI'));
  Object.assign(env, { CONVERGE_VECTORS: missing, NO_COLOR: '1', FORCE_COLOR: '0' }, extraEnv);
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  return new Promise((done) => {
    execFile(process.execPath, [vitest, 'run', 'packages/core/test/interop-vectors.test.ts'], { cwd: root, env }, (err, stdout, stderr) => {
      done({ code: err ? Number(err.code ?? 1) : 0, output: `${stdout}\n${stderr}` });
    });
  });
}

describe('a run without the interop vectors', () => {
  it('outside CI: skips their suites, passes, and prints the notice once', async () => {
    const { code, output } = await runVectorsFile({});
    expect(code, output).toBe(0);
    expect(output.match(/Interop vectors not found at /g), output).toHaveLength(1);
    expect(output).toContain(missing);
    expect(output).toContain('CONVERGE_VECTORS=');
    expect(output).toMatch(/Tests\s+8 skipped/);
  });

  it('with CI=true: fails, naming the missing path', async () => {
    const { code, output } = await runVectorsFile({ CI: 'true' });
    expect(code).toBe(1);
    expect(output).toContain('reads the interop vectors');
    expect(output).toContain(`Interop vectors not found at ${missing}`);
    expect(output).toMatch(/Tests\s+8 failed/);
  });
});
