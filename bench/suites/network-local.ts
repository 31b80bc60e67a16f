// network.local_presigned: messages/s from one sender to one receiver through LocalTransport,
// with presigned messages (signing is measured in core.*) and the receiver draining
// concurrently with awaited receive() calls, as an agent loop would.
import { Identity, createMessage, createTopic, signMessage, type Message } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import type { BenchContext } from '../harness.js';

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

  const run = async (count: number): Promise<number> => {
    const start = process.hrtime.bigint();
    let received = 0;
    const receiver = (async () => {
      while (received < count) {
        if ((await b.receive()) === null) break;
        received++;
      }
    })();
    for (let i = 0; i < count; i++) await a.send(presigned[i & 1023]!);
    await receiver;
    if (received !== count) throw new Error(`lost messages: ${received} of ${count}`);
    return count / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  await run(200_000); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < 5; i++) rates.push(await run(Math.max(10_000, Math.round(1_000_000 * ctx.scale))));
  rates.sort((x, y) => x - y);
  ctx.log(`runs (msgs/s): ${rates.map((r) => Math.round(r)).join(', ')}; median reported`);
  ctx.report({ name: 'network.local_presigned', value: rates[2]!, unit: 'msgs/s' });
  await a.stop();
  await b.stop();
}
