// Vitest globalSetup: checks once per run whether the interop vectors are there and, when they
// are not, prints one notice for the whole run (the suites themselves skip, or fail in CI).
import { missingVectorsNotice, vectorsAvailable } from './vectors-path.js';

/** Prints the missing-vectors notice once, before any test file runs. */
export default function setup(): void {
  if (!vectorsAvailable) process.stderr.write(`\n${missingVectorsNotice()}\n\n`);
}
