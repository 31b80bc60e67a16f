// Runs an example as its README says: `src/main.ts` under tsx, against the workspace sources,
// from the repository root. Shared by every examples/*/test.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';

/** How long an example may run before its test fails: 60 s. */
export const EXAMPLE_TIMEOUT_MS = 60_000;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What an example printed. */
export interface ExampleOutput {
  /** Its whole stdout. */
  stdout: string;
  /** Its stdout trimmed, split into lines. */
  lines: string[];
}

/**
 * Runs the example whose test module is `testUrl` (pass `import.meta.url`): its `../src/main.ts`.
 * Resolves the program's stdout; rejects when it exits non-zero or runs past `EXAMPLE_TIMEOUT_MS`.
 */
export async function runExample(testUrl: string): Promise<ExampleOutput> {
  const main = resolve(dirname(fileURLToPath(testUrl)), '../src/main.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--conditions=@converge/source', main], {
    cwd: root,
    timeout: EXAMPLE_TIMEOUT_MS,
  });
  return { stdout, lines: stdout.trim().split('\n') };
}

/** Checks that `stdout` (what an example printed) holds each of `texts`, anywhere, each named on failure. */
export function expectPrinted(stdout: string, texts: readonly string[]): void {
  for (const text of texts) expect(stdout, text).toContain(text);
}
