/**
 * Option and argument checks, once for every package: an integer within bounds, a finite number
 * >= 0. Browser-safe (no `node:*`). A bad value throws the error its caller names (`ConfigError`
 * for a constructor option, the default; `ValidationError` for a call argument), naming the option.
 */
import { ConfigError, ValidationError } from './errors.js';

/** Which error a failed check throws: `'config'` → `ConfigError` (with `key`), `'validation'` → `ValidationError`. */
export type OptionErrorKind = 'config' | 'validation';

/** The bounds of an integer check (`min` defaults to 1) and the error it throws (default `'config'`). */
export interface IntRule {
  /** The least value allowed (default 1). */
  min?: number;
  /** The greatest value allowed (default: none). */
  max?: number;
  /** The error a bad value throws (default `'config'`). */
  error?: OptionErrorKind;
}

function fail(kind: OptionErrorKind | undefined, name: string, message: string): never {
  if (kind === 'validation') throw new ValidationError(message);
  throw new ConfigError(message, { key: name });
}

/** `value` when it is a safe integer within `rule` (default: >= 1); otherwise the rule's error naming `name`. */
export function requireInt(value: unknown, name: string, rule: IntRule = {}): number {
  const min = rule.min ?? 1;
  const max = rule.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const bounds = rule.max === undefined ? `>= ${min}` : `in [${min}, ${max}]`;
    fail(rule.error, name, `${name} must be an integer ${bounds}, got ${String(value)}`);
  }
  return value;
}

/** An optional integer option (`undefined`: `fallback`), checked by {@link requireInt} against `rule`. */
export function intOption(value: number | undefined, fallback: number, name: string, rule: IntRule = {}): number {
  return value === undefined ? fallback : requireInt(value, name, rule);
}

/** An optional integer option (`undefined`: `fallback`); anything but a safe integer >= 1 → `ConfigError` (or `ValidationError` with `error: 'validation'`) naming it. */
export function positiveIntOption(value: number | undefined, fallback: number, name: string, error: OptionErrorKind = 'config'): number {
  return value === undefined ? fallback : requireInt(value, name, { error });
}

/**
 * The integer options a frozen defaults table names, resolved at once: for each key of
 * `defaults` (in its order), `options[key]` when set, checked by {@link positiveIntOption}
 * (a safe integer >= 1, else the named error naming the key), or the table's default. Keys of
 * `options` that `defaults` does not name are left alone.
 */
export function positiveIntOptions<D extends Readonly<Record<string, number>>>(
  options: { readonly [K in keyof D]?: number | undefined },
  defaults: D,
  error: OptionErrorKind = 'config',
): { -readonly [K in keyof D]: number } {
  const out = {} as { -readonly [K in keyof D]: number };
  for (const key of Object.keys(defaults) as (keyof D & string)[]) out[key] = positiveIntOption(options[key], defaults[key], key, error);
  return out;
}

/** An optional integer option >= 0 (`undefined`: `fallback`); anything else → the named error. */
export function nonNegativeIntOption(value: number | undefined, fallback: number, name: string, error: OptionErrorKind = 'config'): number {
  return value === undefined ? fallback : requireInt(value, name, { min: 0, error });
}

/** An optional finite number >= 0 (`undefined`: `fallback`); anything else → the named error. */
export function nonNegativeOption(value: number | undefined, fallback: number, name: string, error: OptionErrorKind = 'config'): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(error, name, `${name} must be a finite number >= 0, got ${String(value)}`);
  return value;
}
