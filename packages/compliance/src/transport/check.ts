import type { TransportCheckContext } from './context.js';

/** One check of the Transport compliance suite, runnable with or without vitest's `it`. */
export interface TransportCheck {
  /** The test title (stable: `runTransportCheck` finds checks by it). */
  readonly title: string;
  /** Whether it applies to this transport (capabilities); disabled checks are skipped. */
  readonly enabled: boolean;
  /** Hang guard for the whole check, in ms, above every bound it waits with inside. */
  readonly timeoutMs: number;
  /** Runs the check over the context's fresh pair; throws (assertion or bound) on a defect. */
  run(ctx: TransportCheckContext): Promise<void>;
}
