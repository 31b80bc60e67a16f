// Loads the interop vectors in place (../shared/interop/vectors.json, beside the checkout)
// and turns their typed JSON into codec values.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { Float64, hexToBytes } from '@converge/core';

const here = dirname(fileURLToPath(import.meta.url));

/** Path of vectors.json: $CONVERGE_VECTORS, else ../shared/interop/vectors.json beside the repo. */
export const VECTORS_PATH = process.env.CONVERGE_VECTORS ?? resolve(here, '../../../../shared/interop/vectors.json');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const vectors: any = JSON.parse(readFileSync(VECTORS_PATH, 'utf8'));

/** The typed-JSON reviver of ../shared/interop/README.md. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fromTyped(v: any): any {
  if (Array.isArray(v)) return v.map(fromTyped);
  if (v && typeof v === 'object') {
    const k = Object.keys(v);
    if (k.length === 1 && k[0]!.startsWith('$')) {
      const x = v[k[0]!];
      switch (k[0]) {
        case '$float': return new Float64(typeof x === 'string' ? Number(x) : x);
        case '$bigint': return BigInt(x);
        case '$bytes': return hexToBytes(x);
        case '$map': return new Map(x.map(([kk, vv]: [string, unknown]) => [kk, fromTyped(vv)]));
      }
    }
    return Object.fromEntries(Object.entries(v).map(([kk, vv]) => [kk, fromTyped(vv)]));
  }
  return v;
}
