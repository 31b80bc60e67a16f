// Without Chromium a run skips the browser suites and prints one notice; with CI set the same
// run fails; a Chromium that is there but cannot start fails even outside CI. Runs vitest itself
// in a child process on core-browser.test.ts with CHROMIUM_PATH pointing elsewhere.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runVitestFile, type VitestRun } from '../../../../test/support/run-vitest.js';

const missing = join(REPO_ROOT, 'no-such-dir', 'chromium');

/** Runs `vitest run packages/core/test/browser/core-browser.test.ts`; resolves its exit code and output. */
function runBrowserFile(extraEnv: Record<string, string>): Promise<VitestRun> {
  return runVitestFile('packages/core/test/browser/core-browser.test.ts', extraEnv);
}

describe('a run without a usable Chromium', () => {
  it('outside CI, no binary: skips the browser suite, passes, and prints the notice once', async () => {
    const { code, output } = await runBrowserFile({ CHROMIUM_PATH: missing });
    expect(code, output).toBe(0);
    expect(output.match(/Chromium not found at /g), output).toHaveLength(1);
    expect(output).toContain(missing);
    expect(output).toMatch(/Tests\s+1 passed \| 1 skipped/);
  });

  it('with CI=true, no binary: fails, naming the missing path', async () => {
    const { code, output } = await runBrowserFile({ CHROMIUM_PATH: missing, CI: 'true' });
    expect(code, output).toBe(1);
    expect(output).toContain('starts Chromium');
    expect(output).toContain(`Chromium not found at ${missing}`);
    expect(output).toMatch(/1 failed/);
  });

  it('a binary that cannot start fails loudly, also outside CI', async () => {
    const { code, output } = await runBrowserFile({ CHROMIUM_PATH: '/bin/false' });
    expect(code, output).toBe(1);
    expect(output).toContain('Chromium at /bin/false did not start');
  });
});
