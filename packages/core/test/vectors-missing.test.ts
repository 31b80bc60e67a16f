// Without the interop vectors a run skips the suites that need them and prints one notice;
// with CI set the same run fails, naming the missing path. Runs vitest itself in a child
// process on one vectors test file, with CONVERGE_VECTORS pointing at a file that is not there.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runVitestFile, type VitestRun } from '../../../test/support/run-vitest.js';

const missing = join(REPO_ROOT, 'no-such-dir', 'vectors.json');

/** Runs `vitest run packages/core/test/interop-vectors.test.ts`; resolves its exit code and output. */
function runVectorsFile(extraEnv: Record<string, string>): Promise<VitestRun> {
  return runVitestFile('packages/core/test/interop-vectors.test.ts', { CONVERGE_VECTORS: missing, ...extraEnv });
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
