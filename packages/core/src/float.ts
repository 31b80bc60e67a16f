/**
 * The brand of a `Float64`: `Symbol.for('@converge/float64')`, the same symbol in every copy of
 * this module (an ESM and a CJS build, two installed versions), so `isFloat64` and the encoder
 * recognise a marker made by any of them, where `instanceof` would miss it and the value
 * would no longer be written as float64 (breaking a signature).
 */
export const FLOAT64_BRAND: unique symbol = Symbol.for('@converge/float64') as never;

/**
 * A marker for a number that is a float on the wire.
 *
 * A JS number cannot tell `2.0` from `2`; Python can, and its msgpack writes them differently
 * (`cb` float64 vs an int). Wrap a value in `Float64` to have the codec write float64 and
 * `topicToString` print it as Python's `repr` does (`2.0`). Plain integral numbers are ints.
 */
export class Float64 {
  /** The wrapped number. */
  readonly value: number;
  constructor(value: number) {
    this.value = Number(value);
  }
  /** The brand (see {@link FLOAT64_BRAND}): always `true`. */
  get [FLOAT64_BRAND](): true {
    return true;
  }
  /** The plain number, so that `+f` and arithmetic work. */
  valueOf(): number {
    return this.value;
  }
  /** JSON has no float type: serialises as the plain number. */
  toJSON(): number {
    return this.value;
  }
}

/**
 * Whether `v` is a `Float64` marker, from this copy of the module or any other: an object
 * carrying the {@link FLOAT64_BRAND} (and a numeric `value`).
 */
export function isFloat64(v: unknown): v is Float64 {
  return typeof v === 'object' && v !== null && (v as { [FLOAT64_BRAND]?: unknown })[FLOAT64_BRAND] === true;
}

/** Python's `repr(float)` for a number: `2.0`, `1e-05`, `3e+16`, `-0.0`, `nan`, `inf`. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // Both JS and Python print the shortest round-tripping digits; only the layout differs.
  // Python uses scientific notation when the decimal exponent is < -4 or >= 16; JS only
  // outside [-7, 21), so inside Python's plain range JS's `toString` is already plain.
  const [mantissa, e] = x.toExponential().split('e') as [string, string];
  const exponent = Number(e);
  if (exponent < -4 || exponent >= 16) {
    const abs = Math.abs(exponent);
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${abs < 10 ? '0' + abs : abs}`;
  }
  const s = x.toString();
  return s.includes('.') ? s : `${s}.0`;
}
