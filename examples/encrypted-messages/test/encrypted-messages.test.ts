import { describe, expect, it } from 'vitest';
import { runExample } from '../../../test/support/run-example.js';

describe('examples/encrypted-messages', () => {
  it('runs as a program: encrypt-then-sign round trip, tampering/wrong key/lift caught, reference form shown, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    expect(stdout).toMatch(/^derived a 256-bit key with PBKDF2 \(100,000 iterations\) in \d+ ms$/m);
    expect(stdout).toMatch(/^alice -> bob: payload on the wire is \{"_encrypted": "[A-Za-z0-9+/]{24}\.\.\."\} \(\d+ base64 chars\)$/m);
    expect(lines.find((l) => l.startsWith('alice -> bob:'))).not.toContain('vault');
    expect(stdout).toContain('bob verified the signature and decrypted: {"text":"the vault code is 4711","amount":250}');
    for (const what of ['tampered message', 'wrong key', 'lifted ciphertext']) {
      expect(stdout).toContain(`${what}: CryptoError (`);
    }
    // Every check line ends in "yes"; none says NO.
    const checks = lines.filter((l) => /: (yes|NO)$/.test(l));
    expect(checks).toHaveLength(11);
    expect(checks.filter((l) => l.endsWith(': NO'))).toEqual([]);
    expect(stdout).toContain('bindMetadata: false plaintext, as the Python reference writes it: {"text": "the vault code is 4711", "amount": 250}');
    expect(stdout).toContain('lifted ciphertext without metadata binding: decrypted (the reference form cannot tell)');
    expect(lines.at(-1)).toBe('summary: OK');
  });
});
