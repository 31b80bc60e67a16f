// The typed-JSON reviver of the interop vectors, with no Node dependency: the Node suites
// (vectors.ts) and the Chromium page (browser/core-page.ts) both use it.
import { Float64, hexToBytes } from '@converge/core';

/** The typed-JSON reviver of ../shared/interop/README.md. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fromTyped(v: any): any {
  if (Array.isArray(v)) return v.map(fromTyped);
  if (v && typeof v === 'object') {
    const k = Object.keys(v);
    if (k.length === 1 && k[0]!.startsWith('$')) {
      const x = v[k[0]!];
      switch (k[0]) {
        case '$float':
          return new Float64(typeof x === 'string' ? Number(x) : x);
        case '$bigint':
          return BigInt(x);
        case '$bytes':
          return hexToBytes(x);
        case '$map':
          return new Map(x.map(([kk, vv]: [string, unknown]) => [kk, fromTyped(vv)]));
      }
    }
    return Object.fromEntries(Object.entries(v).map(([kk, vv]) => [kk, fromTyped(vv)]));
  }
  return v;
}
