import { LimitExceededError, ValidationError } from '@converge/core';

/** A source of wall-clock time in Unix milliseconds (inject one in tests; defaults to `Date.now`). */
export type Clock = () => number;

/** Options accepted by every coordination call that can wait on a store. */
export interface CallOptions {
  /** Aborts the call (passed to the store). */
  signal?: AbortSignal;
}

/** A listener of a `TypedEmitter` event. */
export type Listener<T> = (payload: T) => void;

/** Default cap on listeners per event of a `TypedEmitter` (a leak detector, not a hard design limit). */
export const DEFAULT_MAX_LISTENERS = 1_000;

/**
 * A tiny typed event emitter. Listeners run synchronously in registration order; a listener
 * that throws does not stop the others nor the operation that emitted (it is counted in
 * `listenerErrors`).
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #maxListeners: number;
  /** Number of listener calls that threw. */
  listenerErrors = 0;

  /** @param maxListeners - cap per event (default `DEFAULT_MAX_LISTENERS`). */
  constructor(maxListeners = DEFAULT_MAX_LISTENERS) {
    this.#maxListeners = maxListeners;
  }

  /** Adds a listener; returns a function that removes it. Throws `LimitExceededError` past the cap. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    if (set.size >= this.#maxListeners) throw new LimitExceededError(`more than ${this.#maxListeners} listeners on ${String(event)}`);
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Whether anyone listens to `event` (lets emitters skip building payloads). */
  hasListeners(event: keyof Events): boolean {
    const set = this.#listeners.get(event);
    return set !== undefined && set.size > 0;
  }

  /** Calls every listener of `event` with `payload`. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return;
    for (const l of set) {
      try {
        (l as Listener<Events[K]>)(payload);
      } catch {
        this.listenerErrors++;
      }
    }
  }
}

/** Exactly the characters `encodeURIComponent` leaves as they are. */
const UNRESERVED = /^[A-Za-z0-9\-_.!~*'()]*$/;

/** Encodes one segment of a store key so that `:` inside ids can never alias another key. */
export function keySegment(id: string): string {
  // Most ids need no escaping: the regex test is far cheaper than encoding (a runtime call
  // and a new string on every key built).
  return UNRESERVED.test(id) ? id : encodeURIComponent(id);
}

/** Inverse of `keySegment` (throws `URIError` on a malformed escape, as `decodeURIComponent`). */
export function parseKeySegment(segment: string): string {
  return segment.indexOf('%') < 0 ? segment : decodeURIComponent(segment);
}

/** Throws `ValidationError` unless `value` is a non-empty string. */
export function requireId(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(`${what} must be a non-empty string`);
  return value;
}
