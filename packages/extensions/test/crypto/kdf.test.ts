import { describe, expect, it } from 'vitest';
import { AbortError, ValidationError, bytesToHex, hexToBytes } from '@converge/core';
import { deriveKey, deriveKeySync, hkdf, scrypt, secureRandomBytes, MAX_RANDOM_BYTES } from '../../src/crypto/index.js';

describe('hkdf', () => {
  it('matches RFC 5869 test case 1', () => {
    const okm = hkdf(hexToBytes('0b'.repeat(22)), hexToBytes('000102030405060708090a0b0c'), hexToBytes('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(bytesToHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
  it('refuses out-of-range lengths', () => {
    expect(() => hkdf(new Uint8Array(32), '', '', 0)).toThrow(ValidationError);
    expect(() => hkdf(new Uint8Array(32), '', '', 255 * 32 + 1)).toThrow(ValidationError);
  });
});

describe('scrypt', () => {
  it('matches RFC 7914 §12 (N=1024, r=8, p=16)', async () => {
    const key = await scrypt('password', 'NaCl', { N: 1024, r: 8, p: 16, length: 64 });
    expect(bytesToHex(key)).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    );
  });
  it('refuses a non-power-of-two N and too much memory', async () => {
    await expect(scrypt('pw', 'salt', { N: 1000 })).rejects.toBeInstanceOf(ValidationError);
    await expect(scrypt('pw', 'salt', { N: 2 ** 20, r: 8, p: 1 })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('deriveKey', () => {
  it('async and sync agree', async () => {
    const salt = secureRandomBytes(16);
    expect(await deriveKey('pw', salt, { iterations: 10 })).toEqual(deriveKeySync('pw', salt, { iterations: 10 }));
  });
  it('validates its parameters', async () => {
    await expect(deriveKey('pw', 'salt', { iterations: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(deriveKey('pw', 'salt', { length: 0 })).rejects.toBeInstanceOf(ValidationError);
    expect(() => deriveKeySync('pw', 'salt', { iterations: 1.5 })).toThrow(ValidationError);
  });
  it('an aborted signal rejects with AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(deriveKey('pw', 'salt', { signal: ac.signal, iterations: 10 })).rejects.toBeInstanceOf(AbortError);
    const ac2 = new AbortController();
    const p = deriveKey('pw', 'salt', { signal: ac2.signal, iterations: 200_000 });
    ac2.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
  });
});

describe('secureRandomBytes', () => {
  it('returns the requested length, bounded', () => {
    expect(secureRandomBytes(0).byteLength).toBe(0);
    expect(secureRandomBytes(32).byteLength).toBe(32);
    expect(secureRandomBytes(32)).not.toEqual(secureRandomBytes(32));
    expect(() => secureRandomBytes(MAX_RANDOM_BYTES + 1)).toThrow(ValidationError);
    expect(() => secureRandomBytes(-1)).toThrow(ValidationError);
  });
});
