import { isFloat64, ValidationError, type WireRecord, type WireValue } from '@converge/core';
import type { Json } from './canonical.js';

/**
 * Converts an `InvokeTool`'s params to the JSON an MCP server takes: `Float64` becomes its
 * number, a `Map` an object; `bigint`, bytes and non-finite numbers have no JSON form and are
 * refused (`ValidationError`) rather than silently changed.
 */
export function paramsToJson(params: WireRecord): { [key: string]: Json } {
  return toJson(params, '') as { [key: string]: Json };
}

function toJson(value: WireValue | undefined, path: string): Json {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ValidationError(`tool input ${path || '/'}: ${value} has no JSON form`);
      return value;
    case 'bigint':
      throw new ValidationError(`tool input ${path || '/'}: a bigint has no JSON form`);
    default:
      break;
  }
  if (isFloat64(value)) return toJson(value.value, path);
  if (value instanceof Uint8Array) throw new ValidationError(`tool input ${path || '/'}: bytes have no JSON form (send them as base64 text)`);
  if (Array.isArray(value)) return value.map((v, i) => toJson(v, `${path}/${i}`));
  const out: { [key: string]: Json } = {};
  const entries = value instanceof Map ? value.entries() : Object.entries(value);
  for (const [k, v] of entries) {
    if (k === '__proto__') throw new ValidationError(`tool input ${path || '/'}: the key __proto__ is refused`);
    out[k] = toJson(v, `${path}/${k}`);
  }
  return out;
}
