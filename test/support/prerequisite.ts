// Suites that need something outside the repository (Chromium, the interop vectors): run when
// it is there; without it, skipped outside CI and failing in CI, naming what is missing.
import { describe, it } from 'vitest';

/** Something a suite needs from outside the repository. */
export interface Prerequisite {
  /** Where it is looked for (named by the skipped test). */
  path: string;
  /** Whether it is there. */
  available: boolean;
  /** Whether a run without it fails (true in CI). */
  required: boolean;
  /** The message a failing run throws. */
  notice(): string;
}

/**
 * `describe` for a suite that needs `p`: the suite itself when it is there (the factory is
 * called only then); when it is missing and required, one failing test named `check`; otherwise
 * a skipped suite.
 */
export function describeNeeding(p: Prerequisite, check: string, name: string, factory: () => void): void {
  if (p.available) describe(name, factory);
  else if (p.required) {
    describe(name, () => {
      it(check, () => {
        throw new Error(p.notice());
      });
    });
  } else describe.skip(name, () => it(`needs ${p.path}`, () => {}));
}

/** A `describe` for suites that need `p`: `describeNeeding(p, check, name, factory)` with `p` and `check` bound. */
export function describerNeeding(p: Prerequisite, check: string): (name: string, factory: () => void) => void {
  return (name, factory) => describeNeeding(p, check, name, factory);
}
