import { describe, expect, it } from 'vitest';
import { Float64, MAX_RESULT_DEPTH, okOutcome, toPlainResult } from '../src/index.js';

describe('toPlainResult of plain objects', () => {
  it('copies a wide record deeply, in key order, so mutating the copy leaves the source alone', () => {
    const src: Record<string, unknown> = { inputs: { n: 3 }, tags: ['a', 'b'], result: null, f: new Float64(1.5), bytes: new Uint8Array([1, 2]) };
    for (let i = 0; i < 20; i++) src[`k${i}`] = i;
    const out = toPlainResult(src) as Record<string, unknown>;
    expect(out).toEqual(src);
    expect(Object.keys(out)).toEqual(Object.keys(src));
    expect(out.inputs).not.toBe(src.inputs);
    expect(out.tags).not.toBe(src.tags);
    expect(out.bytes).not.toBe(src.bytes);
    (out.inputs as { n: number }).n = 99;
    (out.tags as string[]).push('c');
    expect(src.inputs).toEqual({ n: 3 });
    expect(src.tags).toEqual(['a', 'b']);
  });

  it('leaves out functions, symbols, undefined members and symbol keys, as Object.keys does', () => {
    const sym = Symbol('s');
    const src = { a: 1, f: () => 1, s: Symbol('x'), u: undefined, [sym]: 2, nested: { g: () => 2, b: 2 } };
    const out = toPlainResult(src) as Record<string | symbol, unknown>;
    expect(out).toEqual({ a: 1, nested: { b: 2 } });
    expect(Object.getOwnPropertySymbols(out)).toEqual([]);
    expect('u' in out).toBe(false);
  });

  it('copies objects without a prototype and cuts nesting deeper than the limit', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { x: 1 });
    expect(toPlainResult(bare)).toEqual({ x: 1 });
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < MAX_RESULT_DEPTH + 2; i++) deep = { d: deep };
    let cur = toPlainResult(deep) as Record<string, unknown> | null;
    let levels = 0;
    while (cur !== null && typeof cur === 'object' && 'd' in cur) {
      cur = cur.d as Record<string, unknown> | null;
      levels++;
    }
    expect(levels).toBe(MAX_RESULT_DEPTH);
    expect(cur).toBeNull();
  });

  it('walks own keys only when Object.prototype is polluted', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 1;
    try {
      expect(Object.keys(toPlainResult({ a: 1 }) as object)).toEqual(['a']);
    } finally {
      delete proto.polluted;
    }
  });

  it('okOutcome hands the agent a copy of a record', () => {
    const rec = { id: 't', inputs: { n: 1 } };
    const o = okOutcome({ type: 'SubmitTask', task: { objective: 'x' } } as never, rec);
    expect(o.result).toEqual(rec);
    expect(o.result).not.toBe(rec);
  });
});
