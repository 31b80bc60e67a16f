// Where the interop vectors are, whether they are there, and what to print when they are not.
// No dependency on the packages: the vitest globalSetup (vectors-setup.ts) loads this too.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/** Path of vectors.json: $CONVERGE_VECTORS, else ../shared/interop/vectors.json beside the repo. */
export const VECTORS_PATH = process.env.CONVERGE_VECTORS || resolve(here, '../../../../shared/interop/vectors.json');

/** True when the vectors file exists. */
export const vectorsAvailable = existsSync(VECTORS_PATH);

/**
 * True in CI (`CI` set to anything but empty, `0` or `false`): there a missing vectors file
 * fails the suites that need it instead of skipping them.
 */
export const vectorsRequired = !['', '0', 'false'].includes((process.env.CI ?? '').trim().toLowerCase());

/** The one notice printed for a run without the vectors (or the failure message in CI). */
export function missingVectorsNotice(): string {
  return [
    `Interop vectors not found at ${VECTORS_PATH}.`,
    vectorsRequired
      ? 'CI is set, so every test suite that reads them fails.'
      : 'The test suites that check the wire format against them are skipped (CI=true makes this a failure).',
    'To run them, put the shared repository beside this checkout (../shared/interop/vectors.json),',
    'or point CONVERGE_VECTORS=/path/to/vectors.json at a copy.',
  ].join('\n');
}
