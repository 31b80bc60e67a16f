// The browser platform module (platform.browser.ts: no Buffer, no node:*) must give exactly what
// the Node one gives, byte for byte: run both here, in Node, on the same arbitrary inputs.
// (test/browser/ runs the whole of core on the browser module, inside Chromium.)
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as browser from '../src/platform.browser.js';
import * as node from '../src/platform.node.js';
import { DEFAULT_ED25519_BACKEND, Identity } from '@converge/core';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
// Strings with lone surrogates and every UTF-8 width.
const wtf16 = fc.string({
  unit: fc.oneof(fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udc00'), fc.string({ unit: 'binary', maxLength: 1 })),
  maxLength: 40,
});

describe('platform seam: the browser module agrees with the Node one', () => {
  it('names itself', () => {
    expect(node.PLATFORM).toBe('node');
    expect(browser.PLATFORM).toBe('browser');
    expect(browser.nativeEd25519).toBeUndefined();
    expect(node.nativeEd25519).toBeDefined();
    // Under Node the package resolves #platform to the Node module: node:crypto stays the default.
    expect(DEFAULT_ED25519_BACKEND).toBe('node');
    expect(Identity.generate().backend).toBe('node');
  });

  it('hex, base64 and byte equality', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ maxLength: 70 }), (a, b) => {
        expect(browser.toHex(a)).toBe(node.toHex(a));
        expect(hex(browser.fromHex(node.toHex(a)))).toBe(hex(a));
        expect(hex(browser.fromHex(node.toHex(a).toUpperCase()))).toBe(hex(a));
        expect(browser.toBase64(a)).toBe(node.toBase64(a));
        expect(hex(browser.fromBase64(node.toBase64(a)))).toBe(hex(a));
        if (a.length === b.length) expect(browser.sameBytes(a, b)).toBe(node.sameBytes(a, b));
        expect(browser.sameBytes(a, a.slice())).toBe(true);
      }),
    );
  });

  it('base64 decoding is as lenient as Buffer (URL alphabet, no padding, junk skipped, stops at =)', () => {
    const samples = ['', 'QQ', 'QUI', 'QUJD', 'QUJD\n RA==', '-_-_', '+/+/', 'QQ==QUJD', 'Q!Q@', 'é QUJD', 'a', 'ab=c'];
    for (const s of samples) expect(hex(browser.fromBase64(s)), JSON.stringify(s)).toBe(hex(node.fromBase64(s)));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AZaz09+/-_= \n!'.split('')), maxLength: 30 }), (s) => {
        expect(hex(browser.fromBase64(s))).toBe(hex(node.fromBase64(s)));
      }),
    );
  });

  it('UTF-8: byte length, writer bytes and validation (lone surrogates included)', () => {
    fc.assert(
      fc.property(wtf16, (s) => {
        expect(browser.utf8ByteLength(s)).toBe(node.utf8ByteLength(s));
        const size = 3 * s.length + 8;
        const ab1 = new ArrayBuffer(size);
        const ab2 = new ArrayBuffer(size);
        const n1 = browser.utf8Writer(ab1, size).utf8Write(s, 3);
        const n2 = node.utf8Writer(ab2, size).utf8Write(s, 3);
        expect(n1).toBe(n2);
        expect(hex(new Uint8Array(ab1))).toBe(hex(new Uint8Array(ab2)));
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        expect(browser.isUtf8(b)).toBe(node.isUtf8(b));
      }),
    );
    expect(browser.isUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))).toBe(true); // a BOM is valid UTF-8
    expect(browser.isUtf8(new Uint8Array([0xc0, 0x80]))).toBe(false); // overlong
    expect(browser.isUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(false); // encoded surrogate
  });

  it('latin1Slice of ASCII, also past one chunk', () => {
    const ascii = new Uint8Array(10_000).map((_, i) => 32 + (i % 90));
    for (const [s, e] of [
      [0, 0],
      [3, 40],
      [0, 10_000],
      [17, 9_000],
    ] as const) {
      expect(browser.latin1Slice!.call(ascii, s, e)).toBe(node.latin1Slice!.call(ascii, s, e));
    }
  });

  it('SHA-256, random bytes and UUIDs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(browser.sha256Hex(b)).toBe(node.sha256Hex(b));
      }),
    );
    const r = browser.randomBytes(70_000); // over getRandomValues' 65,536-byte limit
    expect(r.byteLength).toBe(70_000);
    expect(r.subarray(65_536).some((x) => x !== 0)).toBe(true);
    expect(hex(browser.randomBytes(32))).not.toBe(hex(browser.randomBytes(32)));
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(browser.randomUUID()).toMatch(v4);
  });

  it('builds UUIDs from getRandomValues where randomUUID is missing (not a secure context)', () => {
    const c = globalThis.crypto as { randomUUID?: unknown };
    const own = Object.getOwnPropertyDescriptor(c, 'randomUUID');
    Object.defineProperty(c, 'randomUUID', { value: undefined, configurable: true, writable: true });
    try {
      expect(c.randomUUID).toBeUndefined();
      const ids = new Set(Array.from({ length: 50 }, () => browser.randomUUID()));
      expect(ids.size).toBe(50);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    } finally {
      if (own) Object.defineProperty(c, 'randomUUID', own);
      else delete (c as { randomUUID?: unknown }).randomUUID;
    }
  });
});
