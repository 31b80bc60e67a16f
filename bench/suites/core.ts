// core.sign_encode / raw.node_sign, core.decode_verify / raw.node_verify, core.noble_sign,
// core.noble_verify: the cost of the library around Ed25519 on a ~100-byte payload.
import { sign, verify } from 'node:crypto';
import {
  Identity, createMessage, createTopic, decodeMessage, encodeMessage, signMessage, signingBytes, verifyMessage,
} from '@converge/core';
import { nodePrivateKey, nodePublicKey } from '../../packages/core/src/ed25519.js';
import { opsPerSecond, type BenchContext } from '../harness.js';

export default async function coreBench(ctx: BenchContext): Promise<void> {
  const durationMs = 1500 * ctx.scale;
  const alice = Identity.generate();
  const bob = Identity.generate();
  const payload = { action: 'compute', args: [1, 2, 3], note: 'a payload of about one hundred bytes', ok: true };
  const topics = [createTopic('tasks', { type: 'compute' })];
  const template = createMessage({ recipient: bob.fingerprint, topics, payload, taskId: null });
  const signed = signMessage(template, alice);
  const data = signingBytes(signed);
  const encoded = encodeMessage(signed);
  ctx.log(`payload ${encodeMessage(createMessage({ payload })).length} bytes; encoded message ${encoded.length} bytes`);

  const key = nodePrivateKey(alice.secretKey!);
  const pub = nodePublicKey(alice.publicKey);
  const sig = sign(null, data, key);

  ctx.report({ name: 'raw.node_sign', value: await opsPerSecond(() => sign(null, data, key), { durationMs }), unit: 'ops/s' });
  ctx.report({
    name: 'core.sign_encode',
    value: await opsPerSecond(() => encodeMessage(signMessage(createMessage({ recipient: bob.fingerprint, topics, payload }), alice)), { durationMs }),
    unit: 'ops/s',
    baseline: 'raw.node_sign',
  });
  ctx.report({ name: 'raw.node_verify', value: await opsPerSecond(() => verify(null, data, pub, sig), { durationMs }), unit: 'ops/s' });
  ctx.report({
    name: 'core.decode_verify',
    value: await opsPerSecond(() => {
      if (!verifyMessage(decodeMessage(encoded), alice.publicKey)) throw new Error('verification failed');
    }, { durationMs }),
    unit: 'ops/s',
    baseline: 'raw.node_verify',
  });
  const nobleAlice = Identity.fromSecretKey(alice.secretKey!, { backend: 'noble' });
  ctx.report({ name: 'core.noble_sign', value: await opsPerSecond(() => nobleAlice.sign(data), { durationMs: durationMs / 2 }), unit: 'ops/s' });
  ctx.report({ name: 'core.noble_verify', value: await opsPerSecond(() => nobleAlice.verify(sig, data), { durationMs: durationMs / 2 }), unit: 'ops/s' });
}
