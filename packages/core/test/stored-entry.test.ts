import { describe, expect, it } from 'vitest';
import { encodeStoredValue, Float64, parseStoredRevision, readStoredEntry } from '@converge/core';

describe('server-backed store record helpers', () => {
  it('parseStoredRevision takes decimal positive safe integers only', () => {
    expect(parseStoredRevision('k', '1')).toBe(1);
    expect(parseStoredRevision('k', '9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ['', '0', '-1', '01', '1e3', ' 7', '0x10', 'x1', '9007199254740992', '1.5']) {
      expect(() => parseStoredRevision('k', bad), bad).toThrow(expect.objectContaining({ name: 'StoreError', code: 'ERR_STORE_CORRUPT', key: 'k' }));
    }
  });

  it('readStoredEntry decodes a record (float markers included) and counts a corrupt one once', () => {
    const v = encodeStoredValue('k', { f: new Float64(2) }, 1000);
    let corrupt = 0;
    const count = (): void => void corrupt++;
    const e = readStoredEntry<{ f: Float64 }>('k', { value: v.bytes, revision: '3', floats: v.floats }, 1000, count);
    expect(e.revision).toBe(3);
    expect(e.value.f).toBeInstanceOf(Float64);
    const bad = [
      { value: 'not bytes', revision: '3', floats: null },
      { value: v.bytes, revision: '', floats: null },
      { value: new Uint8Array([0xc1]), revision: '3', floats: null },
      { value: v.bytes, revision: '3', floats: new Uint8Array([0x01]) },
    ];
    for (const raw of bad) expect(() => readStoredEntry('k', raw, 1000, count)).toThrow(expect.objectContaining({ code: 'ERR_STORE_CORRUPT', key: 'k' }));
    expect(corrupt).toBe(bad.length);
  });
});
