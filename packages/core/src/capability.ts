import type { WireRecord } from './value.js';

/** Something an agent can do, e.g. `{ name: 'translate', version: '1.0' }`. */
export interface Capability {
  name: string;
  version: string;
  description: string;
  constraints: WireRecord;
  costs: WireRecord;
}

/** Builds a capability with defaults (`version` "1.0", empty description, constraints, costs). */
export function createCapability(fields: Partial<Capability> & { name: string }): Capability {
  return {
    name: fields.name,
    version: fields.version ?? '1.0',
    description: fields.description ?? '',
    constraints: { ...(fields.constraints ?? {}) },
    costs: { ...(fields.costs ?? {}) },
  };
}

/** A set of capabilities keyed by name, answering "can this agent do X?". */
export class CapabilitySet implements Iterable<Capability> {
  readonly #byName = new Map<string, Capability>();

  constructor(capabilities: Iterable<Capability | string> = []) {
    for (const c of capabilities) this.add(c);
  }

  /** Adds (or replaces) a capability; a string is shorthand for `{ name }`. */
  add(capability: Capability | string): this {
    const c = typeof capability === 'string' ? createCapability({ name: capability }) : capability;
    this.#byName.set(c.name, c);
    return this;
  }

  /** Removes a capability by name; returns whether it was there. */
  remove(name: string): boolean {
    return this.#byName.delete(name);
  }

  /** Whether a capability of that name is present. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Whether every one of `names` is present. */
  hasAll(names: Iterable<string>): boolean {
    for (const n of names) if (!this.#byName.has(n)) return false;
    return true;
  }

  /** The capability of that name, if any. */
  get(name: string): Capability | undefined {
    return this.#byName.get(name);
  }

  /** Capability names, in insertion order. */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** Number of capabilities. */
  get size(): number {
    return this.#byName.size;
  }

  [Symbol.iterator](): Iterator<Capability> {
    return this.#byName.values();
  }

  /** Plain-data form, for stores and descriptors. */
  toJSON(): Capability[] {
    return [...this.#byName.values()];
  }
}
