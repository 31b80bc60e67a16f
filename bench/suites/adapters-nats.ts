// adapters.nats_*: throughput through the NATS server at CONVERGE_NATS_URL (default
// nats://127.0.0.1:4222), one sender connection and one receiver connection.
// raw.nats_publish: bare nats.js publish → subscription callback of the same ~450-byte presigned
// message bytes (a flush every 1,024 messages, as nats bench-style publishers do); msgs/s
// received. adapters.nats_presigned: NatsTransport sender → NatsTransport receiver, presigned
// messages, awaited send() and receive() as an agent loop would; baseline raw.nats_publish.
import { randomBytes } from 'node:crypto';
import { Identity, createMessage, createTopic, encodeMessage, signMessage, type Message } from '@converge/core';
import { NatsTransport } from '@converge/transport-nats';
import { connect } from '@nats-io/transport-node';
import type { BenchContext } from '../harness.js';
import { sequentialRate } from '../transfer.js';

const URL = process.env.CONVERGE_NATS_URL ?? 'nats://127.0.0.1:4222';

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

/** 1,024 presigned messages alice → bob (about 450 bytes each). */
function presignedMessages(alice: Identity, bob: Identity): Message[] {
  const topics = [createTopic('tasks', { type: 'compute' })];
  const presigned: Message[] = [];
  for (let i = 0; i < 1024; i++) {
    const payload = { action: 'compute', args: [1, 2, 3], note: 'x'.repeat(44), ok: true, seq: i };
    presigned.push(signMessage(createMessage({ recipient: bob.fingerprint, topics, payload }), alice));
  }
  return presigned;
}

/** A run of the raw nats.js baseline: `n` publishes of `wire` (a flush every 1,024), timed until the subscription has them all. */
type RawRun = (n: number) => Promise<number>;

/** Opens the raw publisher and subscriber connections; `close` ends both. */
async function rawNats(subject: string, wire: Uint8Array[]): Promise<{ run: RawRun; close: () => Promise<void> }> {
  const pub = await connect({ servers: URL });
  const sub = await connect({ servers: URL });
  let got = 0;
  let target = 0;
  let done: () => void = () => {};
  sub.subscribe(subject, {
    callback: () => {
      if (++got === target) done();
    },
  });
  await sub.flush();
  const run = async (n: number): Promise<number> => {
    got = 0;
    target = n;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      pub.publish(subject, wire[i & 1023]!);
      if ((i & 1023) === 1023) await pub.flush();
    }
    await finished;
    return n / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  const close = async (): Promise<void> => {
    await pub.close();
    await sub.close();
  };
  return { run, close };
}

/**
 * Runs `run(count)` and pushes this process's CPU time per message over it (sender, receiver and
 * nats.js together) to `cpu`: a diagnostic next to the throughput, which on a shared host also
 * moves with other load.
 */
async function cpuPerMsg(run: (n: number) => Promise<number>, count: number, cpu: number[]): Promise<number> {
  const c0 = process.cpuUsage();
  const rate = await run(count);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / count);
  return rate;
}

/** After a warm-up run of each, five alternating runs of both; reports the medians. */
async function measure(ctx: BenchContext, count: number, rawRun: RawRun, transportRun: (n: number) => Promise<number>): Promise<void> {
  await rawRun(count);
  await transportRun(count); // warm-up
  const raw: number[] = [];
  const adapter: number[] = [];
  const rawCpu: number[] = [];
  const adapterCpu: number[] = [];
  for (let i = 0; i < 5; i++) {
    raw.push(await cpuPerMsg(rawRun, count, rawCpu));
    adapter.push(await cpuPerMsg(transportRun, count, adapterCpu));
  }
  ctx.log(`raw runs (msgs/s): ${raw.map(Math.round).join(', ')}; transport runs: ${adapter.map(Math.round).join(', ')}; medians reported`);
  ctx.log(`CPU µs/msg in this process (median): raw ${median(rawCpu).toFixed(2)}, transport ${median(adapterCpu).toFixed(2)}`);
  ctx.report({ name: 'raw.nats_publish', value: median(raw), unit: 'msgs/s' });
  ctx.report({ name: 'adapters.nats_presigned', value: median(adapter), unit: 'msgs/s', baseline: 'raw.nats_publish' });
}

/** The suite: raw.nats_publish and adapters.nats_presigned, measured in the same run. */
export default async function natsBench(ctx: BenchContext): Promise<void> {
  const alice = Identity.generate();
  const bob = Identity.generate();
  const presigned = presignedMessages(alice, bob);
  const wire = presigned.map((m) => encodeMessage(m));
  ctx.log(`message size: ${wire[0]!.byteLength} bytes`);
  const count = Math.max(10_000, Math.round(200_000 * ctx.scale));
  const prefix = `bench.${randomBytes(4).toString('hex')}`;

  const raw = await rawNats(`${prefix}.raw`, wire);
  const a = new NatsTransport({ servers: URL, agentId: alice.fingerprint, subjectPrefix: prefix });
  const b = new NatsTransport({ servers: URL, agentId: bob.fingerprint, subjectPrefix: prefix, maxQueue: 100_000 });
  await b.start();
  await a.start();
  const transportRun = (n: number): Promise<number> => sequentialRate(a, b, presigned, n, () => `dropped ${b.stats.droppedQueueFull}`);
  try {
    await measure(ctx, count, raw.run, transportRun);
  } finally {
    await a.stop();
    await b.stop();
    await raw.close();
  }
}
