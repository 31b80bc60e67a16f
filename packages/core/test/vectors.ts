// Loads the interop vectors in place (../shared/interop/vectors.json, beside the checkout)
// and turns their typed JSON into codec values. Without the file, the suites that need it
// (declared with `describeWithVectors`) are skipped, or fail in CI (vectors-path.ts).
import { readFileSync } from 'node:fs';
import { it } from 'vitest';
import { describerNeeding } from '../../../test/support/prerequisite.js';
import { VECTORS_PATH, missingVectorsNotice, vectorsAvailable, vectorsRequired } from './vectors-path.js';

export { VECTORS_PATH, vectorsAvailable };

/** The parsed vectors file, or `undefined` when it is missing (see `describeWithVectors`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const vectors: any = vectorsAvailable ? JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) : undefined;

/**
 * `describe` for a suite that reads the vectors. With the file there it is `describe`; without
 * it the factory is never called (it would read `vectors`): outside CI the suite is reported as
 * skipped, in CI it holds one test that fails naming the missing path.
 */
export const describeWithVectors = describerNeeding(
  { path: VECTORS_PATH, available: vectorsAvailable, required: vectorsRequired, notice: missingVectorsNotice },
  'reads the interop vectors',
);

/** `it` for one test that reads the vectors in its body: skipped or failing like `describeWithVectors`. */
export function itWithVectors(name: string, fn: () => unknown): void {
  if (vectorsAvailable) it(name, fn);
  else if (vectorsRequired) {
    it(name, () => {
      throw new Error(missingVectorsNotice());
    });
  } else it.skip(name, fn);
}

export { fromTyped } from './vectors-typed.js';
