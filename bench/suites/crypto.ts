// crypto.encrypt_1k / crypto.decrypt_1k: AES-256-GCM through @converge/extensions/crypto on
// 1 KiB payloads (nonce ‖ ciphertext ‖ tag), against raw node:crypto as the baseline.
import { createCipheriv, randomBytes } from 'node:crypto';
import { decrypt, encrypt, secureRandomBytes } from '@converge/extensions/crypto';
import { opsPerSecond, type BenchContext } from '../harness.js';

export default async function cryptoBench(ctx: BenchContext): Promise<void> {
  const durationMs = 1500 * ctx.scale;
  const key = secureRandomBytes(32);
  const plaintext = secureRandomBytes(1024);
  const sealed = encrypt(key, plaintext);
  ctx.log(`payload ${plaintext.byteLength} bytes; sealed ${sealed.byteLength} bytes`);

  ctx.report({
    name: 'raw.node_aes_gcm_encrypt_1k',
    value: await opsPerSecond(
      () => {
        const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
        c.update(plaintext);
        c.final();
        c.getAuthTag();
      },
      { durationMs: durationMs / 2 },
    ),
    unit: 'ops/s',
  });
  ctx.report({
    name: 'crypto.encrypt_1k',
    value: await opsPerSecond(() => encrypt(key, plaintext), { durationMs }),
    unit: 'ops/s',
    baseline: 'raw.node_aes_gcm_encrypt_1k',
  });
  ctx.report({
    name: 'crypto.decrypt_1k',
    value: await opsPerSecond(
      () => {
        if (decrypt(key, sealed).byteLength !== 1024) throw new Error('decryption failed');
      },
      { durationMs },
    ),
    unit: 'ops/s',
  });
}
