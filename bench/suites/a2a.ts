// a2a.send_rtt_ms: median round trip of a blocking SendMessage from the official A2A client
// (JSON-RPC) to a pool served by @converge/a2a with its default limits (transitions from the
// queue's watch), a worker claiming through the same StoreTaskQueue (memory store).
// a2a.sends_per_s_c16: completed sends per second with 16 concurrent callers (same set-up).
// a2a.card_verify_per_s: verifyAgentCard (JCS + EdDSA JWS) on a pool card, in process.
import { Identity } from '@converge/core';
import { PoolManager, StoreTaskQueue } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import type { Message } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { buildPoolCard, createA2AServer, dataPart, userMessage, publicJwkOf, signAgentCard, verifyAgentCard } from '@converge/a2a';
import { opsPerSecond, type BenchContext } from '../harness.js';

const message = (numbers: number[]): Message => userMessage([dataPart({ numbers })]);
const request = (m: Message) => ({
  tenant: '',
  message: m,
  configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false },
  metadata: {},
});

async function setUp() {
  const store = new MemoryStore();
  const pools = new PoolManager({ store });
  const owner = Identity.generate();
  const pool = await pools.createPool({ id: 'bench-a2a', owner: owner.fingerprint });
  const queue = new StoreTaskQueue({ store, pools, pollMs: 5 });
  const worker = Identity.generate();
  await pools.joinPool(worker.fingerprint, pool.id);
  const server = await createA2AServer({ queue, pool, identity: owner, limits: { ratePerSecond: 1e6, rateBurst: 1e6 } });
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      const claimed = await queue.claim({ agentId: worker.fingerprint, poolId: pool.id, max: 32, waitMs: 20 }, { signal: stop.signal }).catch(() => []);
      for (const { task, lease } of claimed)
        await queue.report(
          lease,
          ((task.inputs.numbers ?? []) as number[]).reduce((a, b) => a + b, 0),
        );
    }
  })();
  const client = await new ClientFactory().createFromUrl(server.url);
  return {
    client,
    close: async () => {
      stop.abort();
      await loop;
      await server.close();
      await queue.stop();
    },
  };
}

export default async function a2a(ctx: BenchContext): Promise<void> {
  const n = Math.max(10, Math.round(60 * ctx.scale));
  {
    const { client, close } = await setUp();
    try {
      for (let i = 0; i < 5; i++) await client.sendMessage(request(message([i])));
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await client.sendMessage(request(message([i, 1])));
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      ctx.report({ name: 'a2a.send_rtt_ms', value: times[Math.floor(times.length / 2)]!, unit: 'ms' });
      {
        const total = n * 4;
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (next++ < total) await client.sendMessage(request(message([1, 2])));
          }),
        );
        ctx.report({ name: 'a2a.sends_per_s_c16', value: total / ((performance.now() - t0) / 1000), unit: 'sends/s' });
      }
    } finally {
      await close();
    }
  }
  const owner = Identity.generate();
  const card = await signAgentCard(
    buildPoolCard({ pool: { id: 'p', topics: [], agents: [] }, baseUrl: 'http://127.0.0.1:1', capabilities: ['sum'] }),
    owner,
    'http://127.0.0.1:1/.well-known/jwks.json',
  );
  const jwk = publicJwkOf(owner);
  ctx.report({
    name: 'a2a.card_verify_per_s',
    value: await opsPerSecond(() => verifyAgentCard(card, async () => jwk), { durationMs: 1000 }),
    unit: 'verifies/s',
  });
}
