import { inspect } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Identity, KeyError, bytesToHex, ed25519Sign, ed25519Verify, fingerprintOf, publicKeyOf } from '@converge/core';

describe('Identity.generate', () => {
  it('makes a signing identity whose fingerprint is the hex SHA-256 of its 32-byte public key', () => {
    const id = Identity.generate();
    expect(id.canSign).toBe(true);
    expect(id.publicKey.byteLength).toBe(32);
    expect(id.secretKey!.byteLength).toBe(32);
    expect(id.fingerprint).toBe(createHash('sha256').update(id.publicKey).digest('hex'));
    expect(id.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(bytesToHex(publicKeyOf(id.secretKey!))).toBe(bytesToHex(id.publicKey));
  });

  it('makes a different key each time', () => {
    expect(Identity.generate().fingerprint).not.toBe(Identity.generate().fingerprint);
  });

  it('honours the backend option', () => {
    expect(Identity.generate({ backend: 'noble' }).backend).toBe('noble');
    expect(Identity.generate().backend).toBe('node');
  });
});

describe('Identity.fromSecretKey and fromPublicKey', () => {
  it('accepts the 32-byte seed and the 64-byte seed‖public key alike', () => {
    const id = Identity.generate();
    const sk64 = new Uint8Array([...id.secretKey!, ...id.publicKey]);
    expect(Identity.fromSecretKey(sk64).fingerprint).toBe(id.fingerprint);
  });

  it('refuses a 64-byte key whose public half does not match its seed', () => {
    const id = Identity.generate();
    const sk64 = new Uint8Array([...id.secretKey!, ...Identity.generate().publicKey]);
    expect(() => Identity.fromSecretKey(sk64)).toThrow(KeyError);
  });

  it("copies the secret: changing the caller's array later changes nothing", () => {
    const seed = new Uint8Array(randomBytes(32));
    const id = Identity.fromSecretKey(seed);
    const fp = id.fingerprint;
    const sig = id.sign(new Uint8Array([1]));
    seed.fill(0);
    expect(bytesToHex(id.sign(new Uint8Array([1])))).toBe(bytesToHex(sig));
    expect(id.fingerprint).toBe(fp);
    id.secretKey!.fill(0); // a copy, too
    expect(bytesToHex(id.sign(new Uint8Array([1])))).toBe(bytesToHex(sig));
  });

  it('fromPublicKey gives a verify-only identity that refuses to sign with KeyError', () => {
    const id = Identity.generate();
    const pub = Identity.fromPublicKey(id.publicKey);
    expect(pub.canSign).toBe(false);
    expect(pub.secretKey).toBeUndefined();
    expect(pub.fingerprint).toBe(id.fingerprint);
    const data = new Uint8Array([5, 6]);
    expect(pub.verify(id.sign(data), data)).toBe(true);
    expect(() => pub.sign(data)).toThrow(KeyError);
    expect(() => Identity.fromPublicKey(new Uint8Array(31))).toThrow(KeyError);
    expect(() => Identity.fromPublicKey(undefined as never)).toThrow(KeyError);
  });
});

describe('Identity JSON', () => {
  it('toJSON omits the secret by default; fromJSON of that is verify-only', () => {
    const id = Identity.generate();
    const json = id.toJSON();
    expect(json).toEqual({ publicKey: bytesToHex(id.publicKey) });
    const back = Identity.fromJSON(json);
    expect(back.canSign).toBe(false);
    expect(back.fingerprint).toBe(id.fingerprint);
  });

  it('round-trips a signing identity with includeSecret', () => {
    const id = Identity.generate();
    const back = Identity.fromJSON(JSON.parse(JSON.stringify(id.toJSON({ includeSecret: true }))));
    expect(back.canSign).toBe(true);
    expect(back.fingerprint).toBe(id.fingerprint);
    const data = new Uint8Array([1, 2, 3]);
    expect(bytesToHex(back.sign(data))).toBe(bytesToHex(id.sign(data)));
  });

  it('refuses a public key that does not match the secret, and malformed hex', () => {
    const a = Identity.generate();
    const b = Identity.generate();
    expect(() => Identity.fromJSON({ publicKey: bytesToHex(b.publicKey), secretKey: bytesToHex(a.secretKey!) })).toThrow(KeyError);
    expect(() => Identity.fromJSON({ publicKey: 'zz' })).toThrow();
  });
});

describe('the secret key never leaks by default', () => {
  const id = Identity.generate();
  const secretHex = bytesToHex(id.secretKey!);
  const secretB64 = Buffer.from(id.secretKey!).toString('base64');
  const views: [string, () => string][] = [
    ['String()', () => String(id)],
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- what a template literal shows is the point
    ['template literal', () => `${id}`],
    ['util.inspect', () => inspect(id, { depth: 10, showHidden: true })],
    ['inspect inside an object', () => inspect({ nested: { id } }, { depth: 10 })],
    ['JSON.stringify', () => JSON.stringify(id)],
    ['JSON.stringify inside an object', () => JSON.stringify({ id })],
    ['Object.keys/values', () => JSON.stringify(Object.entries(id))],
  ];
  it.each(views)('%s', (_name, view) => {
    const text = view();
    expect(text).not.toContain(secretHex);
    expect(text).not.toContain(secretB64);
    expect(text.toLowerCase()).not.toContain(secretHex.slice(0, 16));
  });

  it('toString names the identity by fingerprint prefix', () => {
    expect(String(id)).toBe(`Identity(${id.fingerprint.slice(0, 16)})`);
  });
});

describe('node and noble backends', () => {
  it('produce identical public keys and signatures for random keys and data, and verify each other', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, data) => {
        const n = Identity.fromSecretKey(seed, { backend: 'node' });
        const b = Identity.fromSecretKey(seed, { backend: 'noble' });
        expect(bytesToHex(b.publicKey)).toBe(bytesToHex(n.publicKey));
        const sn = n.sign(data);
        const sb = b.sign(data);
        expect(bytesToHex(sb)).toBe(bytesToHex(sn));
        expect(b.verify(sn, data)).toBe(true);
        expect(n.verify(sb, data)).toBe(true);
        expect(bytesToHex(ed25519Sign(data, seed, 'noble'))).toBe(bytesToHex(ed25519Sign(data, seed, 'node')));
      }),
      { numRuns: 40 },
    );
  });

  it('both reject a tampered signature or data, and malformed keys, with false', () => {
    const id = Identity.generate();
    const data = new Uint8Array([9, 9, 9]);
    const sig = id.sign(data);
    for (const backend of ['node', 'noble'] as const) {
      const bad = new Uint8Array(sig);
      bad[0]! ^= 1;
      expect(ed25519Verify(bad, data, id.publicKey, backend)).toBe(false);
      expect(ed25519Verify(sig, new Uint8Array([9, 9]), id.publicKey, backend)).toBe(false);
      expect(ed25519Verify(sig, data, id.publicKey.subarray(0, 31), backend)).toBe(false);
      expect(ed25519Verify(sig.subarray(0, 63), data, id.publicKey, backend)).toBe(false);
      expect(ed25519Verify(sig, data, new Uint8Array(32).fill(0xff), backend)).toBe(false);
      expect(ed25519Verify(sig, data, id.publicKey, backend)).toBe(true);
    }
  });

  it('fingerprintOf is the lowercase hex SHA-256 of the key bytes', () => {
    const key = new Uint8Array(32).fill(1);
    expect(fingerprintOf(key)).toBe(createHash('sha256').update(key).digest('hex'));
  });
});
