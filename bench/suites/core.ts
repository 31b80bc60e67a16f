// core.sign_encode / raw.node_sign, core.decode_verify / raw.node_verify, core.noble_sign,
// core.noble_verify: the cost of the library around Ed25519 on a ~100-byte payload.
import { sign, verify } from 'node:crypto';
import { Identity, createMessage, createTopic, decodeMessage, encodeMessage, encodeValue, signMessage, signingBytes, verifyMessage } from '@converge/core';
import { nodePrivateKey, nodePublicKey } from '../../packages/core/src/platform.node.js';
import { opsPerSecond, type BenchContext } from '../harness.js';

// A figure and its baseline are measured in alternating rounds and each keeps its best round,
// so that a burst of load on a shared machine hits both alike instead of skewing the ratio.
async function paired(base: () => unknown, lib: () => unknown, durationMs: number, rounds = 3): Promise<[number, number]> {
  let a = 0;
  let b = 0;
  for (let r = 0; r < rounds; r++) {
    const opts = { durationMs: durationMs / rounds, warmupMs: r === 0 ? 300 : 100 };
    a = Math.max(a, await opsPerSecond(base, opts));
    b = Math.max(b, await opsPerSecond(lib, opts));
  }
  return [a, b];
}

export default async function coreBench(ctx: BenchContext): Promise<void> {
  const durationMs = 1500 * ctx.scale;
  const alice = Identity.generate();
  const bob = Identity.generate();
  // 100 bytes as msgpack (logged below).
  const payload = { action: 'compute', args: [1, 2, 3], note: 'a payload of about one hundred bytes', ok: true, job: 'job-0000042-x', priority: 5 };
  const topics = [createTopic('tasks', { type: 'compute' })];
  const template = createMessage({ recipient: bob.fingerprint, topics, payload, taskId: null });
  const signed = signMessage(template, alice);
  const data = signingBytes(signed);
  const encoded = encodeMessage(signed);
  ctx.log(`payload ${encodeValue(payload).length} bytes; signed bytes ${data.length}; encoded message ${encoded.length} bytes`);

  const key = nodePrivateKey(alice.secretKey!);
  const pub = nodePublicKey(alice.publicKey);
  const sig = sign(null, data, key);

  const signEncode = () => encodeMessage(signMessage(createMessage({ recipient: bob.fingerprint, topics, payload }), alice));
  const decodeVerify = () => {
    if (!verifyMessage(decodeMessage(encoded), alice.publicKey)) throw new Error('verification failed');
  };
  const [rawSign, coreSign] = await paired(() => sign(null, data, key), signEncode, durationMs);
  ctx.report({ name: 'raw.node_sign', value: rawSign, unit: 'ops/s' });
  ctx.report({ name: 'core.sign_encode', value: coreSign, unit: 'ops/s', baseline: 'raw.node_sign' });
  const [rawVerify, coreVerify] = await paired(() => verify(null, data, pub, sig), decodeVerify, durationMs);
  ctx.report({ name: 'raw.node_verify', value: rawVerify, unit: 'ops/s' });
  ctx.report({ name: 'core.decode_verify', value: coreVerify, unit: 'ops/s', baseline: 'raw.node_verify' });
  const nobleAlice = Identity.fromSecretKey(alice.secretKey!, { backend: 'noble' });
  ctx.report({ name: 'core.noble_sign', value: await opsPerSecond(() => nobleAlice.sign(data), { durationMs: durationMs / 2 }), unit: 'ops/s' });
  ctx.report({ name: 'core.noble_verify', value: await opsPerSecond(() => nobleAlice.verify(sig, data), { durationMs: durationMs / 2 }), unit: 'ops/s' });
}
