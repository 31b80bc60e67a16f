// The Clock contract: what time it is and how to wait, so that components can be driven by a
// test clock instead of the wall clock. `systemClock` is the default wherever none is given.

/** A timer started by a `Clock` (opaque; pass it back to the same clock to clear it). */
export type ClockTimer = unknown;

/** Time and timers. Implementations must call callbacks asynchronously, never from within `setTimeout`. */
export interface Clock {
  /** The current time, Unix ms. */
  now(): number;
  /** Calls `callback` once after `ms` ms; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): ClockTimer;
  /** Cancels a timer of `setTimeout` (a handle already fired or cleared is ignored). */
  clearTimeout(timer: ClockTimer): void;
  /** Calls `callback` every `ms` ms until cleared; returns a handle for `clearInterval`. */
  setInterval(callback: () => void, ms: number): ClockTimer;
  /** Cancels a timer of `setInterval`. */
  clearInterval(timer: ClockTimer): void;
}

/** The wall clock and the platform's timers (`Date.now`, `setTimeout`, `setInterval`). */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number): ClockTimer => setTimeout(callback, ms),
  clearTimeout: (timer: ClockTimer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
  setInterval: (callback: () => void, ms: number): ClockTimer => setInterval(callback, ms),
  clearInterval: (timer: ClockTimer) => clearInterval(timer as ReturnType<typeof setInterval>),
});

/** What components accept where they read the time: a `Clock`, or a bare `now` function (Unix ms). */
export type ClockLike = Clock | (() => number);

/** The `now` function of `clock` (a `Clock`'s bound `now`, or the function itself; default `Date.now`). */
export function nowOf(clock?: ClockLike): () => number {
  if (clock === undefined) return Date.now;
  if (typeof clock === 'function') return clock;
  return () => clock.now();
}
