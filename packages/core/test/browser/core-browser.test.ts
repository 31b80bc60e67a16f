// @converge/core in real headless Chromium: the page (core-page.ts, bundled with the `browser`
// condition) computes; this file checks every result against the interop vectors and against
// core in Node. Same wire bytes, same signatures, both ways.
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, createMessage, DecodeError, decodeMessage, decodeValue, encodeMessage, encodeValue, hexToBytes, Identity } from '@converge/core';
import { signingBytes, signMessage, verifyMessage } from '@converge/core';
import { browserBundleSize, describeInChromium, pageInChromium } from '../../../../test/support/chromium.js';
import { wireValue } from '../arbitraries.js';
import { fromTyped, itWithVectors, vectors } from '../vectors.js';
import type { CorePage } from './core-page.js';
import { describeMessage } from './describe-message.js';

const PAGE = fileURLToPath(new URL('./core-page.ts', import.meta.url));
const CORE_INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

describeInChromium('@converge/core in headless Chromium', () => {
  const page = pageInChromium<CorePage>(PAGE, 'corePage');
  const inPage = page.call;

  /** Runs the page's `kind` over the vectors: one result per vector of `expected` (untyped JSON, as `vectors`), each checked by `check`, in order. */
  async function checkEachInPage(
    kind: 'identities' | 'signatures' | 'messages' | 'negatives',
    expected: readonly (typeof vectors)[],
    check: (g: Record<string, unknown>, v: typeof vectors) => void,
  ): Promise<void> {
    const got = (await inPage(kind, vectors)) as Record<string, unknown>[];
    expect(got).toHaveLength(expected.length);
    got.forEach((g, i) => check(g, expected[i]));
  }

  it('runs the browser platform: noble Ed25519, no Buffer or process in the page', async () => {
    const p = await inPage('platform');
    expect(p.userAgent).toMatch(/Chrome\//);
    expect(p.backend).toBe('noble');
    expect(p.nodeBackend).toBe('KeyError'); // asking for node:crypto there is a typed error
    expect(p.buffer).toBe('undefined');
    expect(p.process).toBe('undefined');
    expect(page.session.errors).toEqual([]);
  });

  it('core bundles for the browser without node:* or Buffer (min+gzip size logged)', async () => {
    const size = await browserBundleSize(CORE_INDEX);
    expect(size.inputs).toContain('packages/core/src/platform.browser.ts');
    expect(size.inputs).not.toContain('packages/core/src/platform.node.ts');
    // Checked without printing the bundle on failure.
    expect(/\bnode:/.test(size.text), 'a node: specifier in the bundle').toBe(false);
    expect(/\bBuffer\b/.test(size.text), 'a Buffer reference in the bundle').toBe(false);
    console.log(`core browser bundle: ${size.minified} bytes minified, ${size.gzip} bytes min+gzip`);
  });

  itWithVectors('identities: public key, fingerprint, base64, 32/64-byte secrets', async () => {
    await checkEachInPage('identities', vectors.identities, (g, v) => {
      expect(g).toEqual({
        name: v.name,
        backend: 'noble',
        publicKey: v.public_key,
        fingerprint: v.fingerprint,
        publicKeyB64: v.public_key_b64,
        from64: v.fingerprint,
        fromPrivate: v.fingerprint,
      });
    });
  });

  itWithVectors('raw Ed25519 signatures: the vectors byte for byte; a tampered input does not verify', async () => {
    await checkEachInPage('signatures', vectors.ed25519_signatures, (g, v) => {
      expect(g.signature, v.name).toBe(v.signature);
      expect(g.verify, v.name).toBe(true);
      expect(g.verifyTampered, v.name).toBe(false);
    });
  });

  itWithVectors('topic strings and dict encoding', async () => {
    const got = await inPage('topics', vectors);
    expect(got).toEqual(
      vectors.topics.map((v: { name: string; string: string; dict_msgpack: string }) => ({ name: v.name, string: v.string, dictMsgpack: v.dict_msgpack })),
    );
  });

  itWithVectors('messages: signing bytes, signature, encoding, decoding, re-encoding, verification', async () => {
    await checkEachInPage('messages', vectors.messages, (g, v) => {
      expect(g.signingBytes, v.name).toBe(v.signing_bytes);
      if (v.signer) {
        expect(g.sender, v.name).toBe(v.input.sender);
        expect(g.signature, v.name).toBe(v.signature);
      }
      expect(g.encoded, v.name).toBe(v.encoded);
      expect(g.reencoded, v.name).toBe(v.encoded);
      expect(g.resigning, v.name).toBe(v.signing_bytes);
      expect(g.verify, v.name).toBe(v.verify);
      // The page decodes exactly what Node decodes.
      expect(g.decoded, v.name).toEqual(describeMessage(decodeMessage(hexToBytes(v.encoded))));
      expect((g.decoded as { id: string }).id).toBe(v.decoded.id);
    });
  });

  itWithVectors('verification negatives', async () => {
    await checkEachInPage('negatives', vectors.verification_negatives, (g, v) => {
      if ('decodeError' in g) {
        expect(g.decodeError, v.name).toBe('DecodeError');
        expect(v.verify).toBe(false);
        return;
      }
      expect(g.verify, v.name).toBe(v.verify);
      if (v.signing_bytes) expect(g.signingBytes, v.name).toBe(v.signing_bytes);
    });
  });

  itWithVectors('decoding other encoders (and refusing what Node refuses)', async () => {
    const got = await inPage('decodes', vectors);
    got.forEach((g: Record<string, unknown>, i: number) => {
      const v = vectors.decode[i];
      if (!v.ok) {
        expect(g.error, v.name).toBe('DecodeError');
        expect(() => decodeMessage(hexToBytes(v.bytes))).toThrow(DecodeError);
        return;
      }
      expect(g.decoded, v.name).toEqual(describeMessage(decodeMessage(hexToBytes(v.bytes))));
      if (v.verify !== undefined) expect(g.verify, v.name).toBe(v.verify);
      expect(fromTyped(v.decoded.timestamp)).toBeDefined();
    });
  });

  it('sign/verify: the page signs what Node signs, byte for byte; each verifies the other', async () => {
    const node = Identity.generate();
    const data = bytesToHex(new TextEncoder().encode('same bytes in both places'));
    const page = await inPage('sign', bytesToHex(node.secretKey!), data);
    expect(page.publicKey).toBe(bytesToHex(node.publicKey));
    expect(page.signature).toBe(bytesToHex(node.sign(hexToBytes(data))));

    // A page-generated identity (WebCrypto randomness) signs a message; Node (node:crypto) verifies it.
    const payload = bytesToHex(encodeValue({ n: 1, s: 'héllo', b: new Uint8Array([1, 2, 3]) }));
    const made = await inPage('generateAndSign', payload);
    const fromPage = decodeMessage(hexToBytes(made.encoded));
    expect(fromPage.sender).toBe(made.fingerprint);
    expect(verifyMessage(fromPage, hexToBytes(made.publicKey))).toBe(true);
    expect(Identity.fromSecretKey(hexToBytes(made.seed)).fingerprint).toBe(made.fingerprint);
    const otherPageId = await inPage('generateAndSign', payload);
    expect(otherPageId.seed).not.toBe(made.seed);

    // Node signs; the page verifies, and refuses the same message with one payload byte flipped.
    const signed = signMessage(createMessage({ payload: 'from node', recipient: made.fingerprint }), node);
    const encoded = encodeMessage(signed);
    const ok = await inPage('verifyEncoded', bytesToHex(encoded), bytesToHex(node.publicKey));
    expect(ok).toEqual({ verify: true, reencoded: bytesToHex(encoded), payload: bytesToHex(encodeValue('from node')) });
    const tampered = encodeMessage(
      signMessage(createMessage({ payload: 'from nodf', recipient: made.fingerprint, id: signed.id, timestamp: signed.timestamp }), node),
    );
    const forged = encodeMessage(createMessage({ ...decodeMessage(tampered), signature: signed.signature }));
    expect((await inPage('verifyEncoded', bytesToHex(forged), bytesToHex(node.publicKey))).verify).toBe(false);
    expect((await inPage('verifyEncoded', bytesToHex(encoded), bytesToHex(Identity.generate().publicKey))).verify).toBe(false);
  });

  it('codec: arbitrary values round-trip in the page to the bytes Node produces; signed messages too', async () => {
    const values = fc.sample(wireValue, { numRuns: 300, seed: 19 });
    const hexes = values.map((v) => bytesToHex(encodeValue(v)));
    // Long strings take the platform's UTF-8 writer and ASCII decoder; invalid UTF-8 its validator.
    hexes.push(bytesToHex(encodeValue('a'.repeat(5000))), bytesToHex(encodeValue('é€😀'.repeat(300))), 'a2c328', 'a3eda080');
    const expected = hexes.map((h) => {
      try {
        return bytesToHex(encodeValue(decodeValue(hexToBytes(h))));
      } catch (err) {
        return `error:${err instanceof DecodeError ? 'DecodeError' : (err as Error).name}`;
      }
    });
    expect(expected.slice(-2)).toEqual(['error:DecodeError', 'error:DecodeError']);
    expect(await inPage('roundTrip', hexes)).toEqual(expected);

    const seed = Identity.generate();
    for (const [i, h] of hexes.slice(0, 60).entries()) {
      const fields = { id: `m-${i}`, timestamp: 1_700_000_000_000 + i, recipient: i % 2 ? null : seed.fingerprint };
      const fromPage = await inPage('signFixed', bytesToHex(seed.secretKey!), fields, h);
      const inNode = encodeMessage(signMessage(createMessage({ ...fields, payload: decodeValue(hexToBytes(h)) as never }), seed));
      expect(fromPage).toBe(bytesToHex(inNode));
      expect(bytesToHex(signingBytes(decodeMessage(hexToBytes(fromPage))))).toBe(bytesToHex(signingBytes(decodeMessage(inNode))));
    }
  });

  itWithVectors('verifyMessageAsync uses WebCrypto Ed25519 in Chromium and agrees with the vectors and with verifyMessage', async () => {
    const r = await inPage('asyncVerify', vectors);
    expect(r.backend).toBe('webcrypto');
    expect(r.messages).toEqual(vectors.messages.map((v: { verify: boolean }) => v.verify));
    r.negatives.forEach((g: boolean | string, i: number) => {
      const v = vectors.verification_negatives[i];
      if (g === 'DecodeError') expect(v.verify).toBe(false);
      else expect(g, v.name).toBe(v.verify);
    });
    expect(r.agree).toBe(100);
    expect(r.trueCount).toBe(50);
    expect(r.malformed).toEqual([false]);
  });

  it('UUIDs from WebCrypto are v4 and distinct', async () => {
    const ids = await inPage('uuids', 200);
    expect(new Set(ids).size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(page.session.errors).toEqual([]);
  });
});

describe('browser harness', () => {
  it('refuses to bundle a node:* import for the browser (the check the size test relies on)', async () => {
    await expect(
      browserBundleSize({ contents: "import { randomUUID } from 'node:crypto'; console.log(randomUUID());", resolveDir: process.cwd() }),
    ).rejects.toThrow();
  });
});
