import { ValidationError } from '@converge/core';

const HASH = /^[0-9a-f]{64}$/;

/**
 * The pinned definition hashes of MCP tools, by namespaced name (`server/tool`): an instance
 * (no global state), shared by the toolsets that should honour it. Persist `toJSON()` and pass
 * it back to keep pins across restarts; a tool whose listed definition hashes differently from
 * its pin is refused until accepted.
 */
export class ToolPins {
  readonly #pins = new Map<string, string>();

  /** @param initial - pins to start from (e.g. a saved `toJSON()`). */
  constructor(initial: Readonly<Record<string, string>> | Iterable<readonly [string, string]> = {}) {
    const entries = Symbol.iterator in initial ? (initial as Iterable<readonly [string, string]>) : Object.entries(initial);
    for (const [name, hash] of entries) this.set(name, hash);
  }

  /** The pin of `tool`, if any. */
  get(tool: string): string | undefined {
    return this.#pins.get(tool);
  }

  /** Pins `tool` to `hash` (hex sha-256); a malformed hash is a `ValidationError`. */
  set(tool: string, hash: string): void {
    if (!HASH.test(hash)) throw new ValidationError(`pin of ${tool} is not a hex sha-256: ${hash}`);
    this.#pins.set(tool, hash);
  }

  /** Forgets the pin of `tool`; returns whether there was one. */
  delete(tool: string): boolean {
    return this.#pins.delete(tool);
  }

  /** Number of pins. */
  get size(): number {
    return this.#pins.size;
  }

  /** The pins as a plain object (sorted by name), for saving. */
  toJSON(): Record<string, string> {
    return Object.fromEntries([...this.#pins].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
