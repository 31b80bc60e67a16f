// Vitest globalSetup: prints the missing-Chromium notice once per run (the browser suites
// themselves skip, or fail when CI is set; see chromium.ts).
import { existsSync } from 'node:fs';

/** Prints one notice when Chromium is missing, before any test file runs. */
export default function setup(): void {
  const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (existsSync(path)) return;
  const ci = !['', '0', 'false'].includes((process.env.CI ?? '').trim().toLowerCase());
  process.stderr.write(
    `\nChromium not found at ${path}: the browser test suites ${ci ? 'fail (CI is set)' : 'are skipped (CI=true makes this a failure)'}.\n` +
      'Install it with `apt-get install -y chromium` (.ci/run does), or set CHROMIUM_PATH.\n\n',
  );
}
