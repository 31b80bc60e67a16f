// network.local_presigned: messages/s from one sender to one receiver through LocalTransport,
// with presigned messages (signing is measured in core.*) and the receiver draining
// concurrently with awaited receive() calls, as an agent loop would.
import { Identity, createMessage, createTopic, signMessage, type Message } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import type { BenchContext } from '../harness.js';
import { sequentialRate } from '../transfer.js';

export default async function networkLocalBench(ctx: BenchContext): Promise<void> {
  const alice = Identity.generate();
  const bob = Identity.generate();
  const payload = { action: 'compute', args: [1, 2, 3], note: 'a payload of about one hundred bytes', ok: true };
  const topics = [createTopic('tasks', { type: 'compute' })];
  const presigned: Message[] = [];
  for (let i = 0; i < 1024; i++) {
    presigned.push(signMessage(createMessage({ recipient: bob.fingerprint, topics, payload: { ...payload, seq: i } }), alice));
  }
  const hub = new LocalHub();
  const a = new LocalTransport(alice.fingerprint, { hub });
  const b = new LocalTransport(bob.fingerprint, { hub });
  await a.start();
  await b.start();

  const run = (count: number): Promise<number> => sequentialRate(a, b, presigned, count);
  await run(200_000); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < 5; i++) rates.push(await run(Math.max(10_000, Math.round(1_000_000 * ctx.scale))));
  rates.sort((x, y) => x - y);
  ctx.log(`runs (msgs/s): ${rates.map((r) => Math.round(r)).join(', ')}; median reported`);
  ctx.report({ name: 'network.local_presigned', value: rates[2]!, unit: 'msgs/s' });
  await a.stop();
  await b.stop();
}
