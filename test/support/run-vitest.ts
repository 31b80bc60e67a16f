// Runs vitest itself in a child process on one test file, for the tests that check how a run
// behaves without something it needs (Chromium, the interop vectors).
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What a child vitest run ended with. */
export interface VitestRun {
  /** Exit code (0: passed). */
  code: number;
  /** Its stdout, then its stderr. */
  output: string;
}

/**
 * Runs `vitest run <file>` (a path from the repository root) from the root, with this
 * environment plus `env`; the child does not think it is a vitest worker, nor inherits this
 * run's `CI` setting (give `CI` in `env` for that).
 */
export function runVitestFile(file: string, env: Record<string, string>): Promise<VitestRun> {
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'CI'));
  Object.assign(childEnv, { NO_COLOR: '1', FORCE_COLOR: '0' }, env);
  const vitest = join(REPO_ROOT, 'node_modules/vitest/vitest.mjs');
  return new Promise((done) => {
    execFile(process.execPath, [vitest, 'run', file], { cwd: REPO_ROOT, env: childEnv }, (err, stdout, stderr) => {
      done({ code: err ? Number(err.code ?? 1) : 0, output: `${stdout}\n${stderr}` });
    });
  });
}
