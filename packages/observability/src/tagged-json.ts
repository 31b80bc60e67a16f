import { DecodeError, EncodeError, Float64, isFloat64, base64ToBytes, bytesToBase64 } from '@converge/core';

/** Deepest nesting `toTagged` accepts (a guard against cycles and runaway recursion). */
export const MAX_TAGGED_DEPTH = 100;

/**
 * Lossless JSON for plain data (decisions, tasks): JSON types as they are, and one-key tag
 * objects for the rest — `{"$float":2}` (`Float64`), `{"$bigint":"…"}`, `{"$bytes":"base64"}`,
 * `{"$map":[[k,v],…]}`, `{"$num":"NaN"|"Infinity"|"-Infinity"|"-0"}`, `{"$undef":1}`, and
 * `{"$obj":[[k,v],…]}` for an object with a key that starts with `$`. Class instances other
 * than these are refused (`EncodeError`): replay never deserializes code.
 */
export function toTagged(value: unknown, depth = 0): unknown {
  if (depth > MAX_TAGGED_DEPTH) throw new EncodeError(`nesting deeper than ${MAX_TAGGED_DEPTH} (or a cycle)`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value === undefined) return { $undef: 1 };
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { $num: 'NaN' };
    if (value === Infinity) return { $num: 'Infinity' };
    if (value === -Infinity) return { $num: '-Infinity' };
    if (Object.is(value, -0)) return { $num: '-0' };
    return value;
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (isFloat64(value)) return { $float: toTagged(value.value, depth + 1) };
  if (value instanceof Uint8Array) return { $bytes: bytesToBase64(value) };
  if (Array.isArray(value)) return value.map((v) => toTagged(v, depth + 1));
  if (value instanceof Map) {
    return { $map: [...value].map(([k, v]) => [toTagged(k, depth + 1), toTagged(v, depth + 1)]) };
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new EncodeError(`cannot record an instance of ${(value as object).constructor?.name ?? 'an unknown class'}`);
    }
    const keys = Object.keys(value);
    const src = value as Record<string, unknown>;
    if (keys.some((k) => k.startsWith('$'))) return { $obj: keys.map((k) => [k, toTagged(src[k], depth + 1)]) };
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = toTagged(src[k], depth + 1);
    return out;
  }
  throw new EncodeError(`cannot record a ${typeof value}`);
}

const NUMS: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

function pairs(v: unknown, tag: string): [unknown, unknown][] {
  if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2)) throw new DecodeError(`${tag} must be a list of pairs`);
  return v as [unknown, unknown][];
}

/** The inverse of `toTagged`; throws `DecodeError` on a malformed tag. */
export function fromTagged(value: unknown, depth = 0): unknown {
  if (depth > MAX_TAGGED_DEPTH) throw new DecodeError(`nesting deeper than ${MAX_TAGGED_DEPTH}`);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => fromTagged(v, depth + 1));
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0]!.startsWith('$')) {
    const tag = keys[0]!;
    const v = obj[tag];
    switch (tag) {
      case '$undef':
        return undefined;
      case '$num':
        if (typeof v !== 'string' || !(v in NUMS)) throw new DecodeError(`bad $num ${JSON.stringify(v)}`);
        return NUMS[v];
      case '$bigint':
        if (typeof v !== 'string' || !/^-?[0-9]+$/.test(v)) throw new DecodeError('bad $bigint');
        return BigInt(v);
      case '$float': {
        const n = fromTagged(v, depth + 1);
        if (typeof n !== 'number') throw new DecodeError('bad $float');
        return new Float64(n);
      }
      case '$bytes':
        if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new DecodeError('bad $bytes');
        return base64ToBytes(v);
      case '$map':
        return new Map(pairs(v, '$map').map(([k, x]) => [fromTagged(k, depth + 1), fromTagged(x, depth + 1)]));
      case '$obj': {
        const out: Record<string, unknown> = {};
        for (const [k, x] of pairs(v, '$obj')) {
          if (typeof k !== 'string') throw new DecodeError('$obj keys must be strings');
          out[k] = fromTagged(x, depth + 1);
        }
        return out;
      }
      default:
        throw new DecodeError(`unknown tag ${tag}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (k.startsWith('$')) throw new DecodeError(`untagged key ${JSON.stringify(k)} starts with "$"`);
    out[k] = fromTagged(obj[k], depth + 1);
  }
  return out;
}

/**
 * Structural equality of plain data as `toTagged` sees it: `Float64` differs from a number,
 * a bigint from a number, a Map from an object; object key order is ignored and a property
 * set to `undefined` equals an absent one.
 */
export function dataEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (isFloat64(a) || isFloat64(b)) return isFloat64(a) && isFloat64(b) && Object.is(a.value, b.value);
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => dataEqual(x, b[i]));
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    const ea = [...a];
    const eb = [...b];
    return ea.every(([k, v], i) => Object.is(k, eb[i]![0]) && dataEqual(v, eb[i]![1]));
  }
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  const ka = Object.keys(oa).filter((k) => oa[k] !== undefined);
  const kb = Object.keys(ob).filter((k) => ob[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(ob, k) && dataEqual(oa[k], ob[k]));
}
