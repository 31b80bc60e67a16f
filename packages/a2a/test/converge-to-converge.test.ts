// Our client against our server: one Converge pool delegates to another over A2A. The card key
// is the pool owner's (pinned by fingerprint); a stream cut before the task is known is resumed
// by sending the same message id again, which the server answers with the same task; the
// HTTP+JSON binding serves the official REST client too.
import { afterEach, describe, expect, it } from 'vitest';
import { Role, TaskState } from '@a2a-js/sdk';
import { ClientFactory, RestTransportFactory } from '@a2a-js/sdk/client';
import { A2ATaskRejectedError, connectA2AAgent, createA2AServer, type A2AServer } from '@converge/a2a';
import { makePool, sumOf, type TestPool } from './support/pool.js';

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function serve(): Promise<{ server: A2AServer; pool: TestPool }> {
  const pool = await makePool();
  const server = await createA2AServer({
    queue: pool.queue,
    pool: pool.pool,
    identity: pool.owner,
    capabilities: ['sum'],
    auth: { apiKeys: { 'k-0123456789abcdef': 'peer' } },
    limits: { pollMs: 20 },
  });
  stops.push(
    () => pool.queue.stop(),
    () => server.close(),
  );
  return { server, pool };
}

/** A fetch that answers the first event-stream request with a stream that breaks before any event. */
function breakFirstStream(): typeof fetch {
  let broken = false;
  return async (input, init) => {
    const res = await fetch(input, init);
    if (broken || !res.headers.get('content-type')?.includes('text/event-stream')) return res;
    broken = true;
    await res.body?.cancel();
    const body = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new TypeError('connection reset (injected)')) });
    return new Response(body, { status: res.status, headers: res.headers });
  };
}

describe('a Converge pool delegating to another Converge pool over A2A', () => {
  it('pins the owner key, delegates with the API key, and resumes a stream cut before the task was known with the same task', async () => {
    const { server, pool } = await serve();
    stops.push(
      pool.startWorker(async (t) => {
        await new Promise((r) => setTimeout(r, 50));
        return sumOf(t);
      }),
    );
    const remote = await connectA2AAgent(server.url, {
      trustedKeys: [pool.owner.fingerprint],
      credentials: { apiKey: 'k-0123456789abcdef' },
      fetch: breakFirstStream(),
      reconnectDelayMs: 20,
    });
    expect(remote.keyFingerprint).toBe(pool.owner.fingerprint);
    const r = await remote.delegate({ data: { numbers: [7, 8, 9] }, skill: 'sum' });
    expect(r.result).toBe(24);
    expect(r.reconnects).toBe(1);
    // Both sends carried one message id: one task in the pool, requiring the skill asked for.
    const { tasks } = await pool.queue.list({ poolId: pool.poolId });
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.id).toBe(r.taskId);
    expect(tasks[0]!.requiredCapabilities).toEqual(['sum']);
    expect(server.stats()).toMatchObject({ submitted: 1, idempotentReplays: 1 });
  });

  it('maps a rejected send to A2ATaskRejectedError (a refusal)', async () => {
    const pool = await makePool();
    const server = await createA2AServer({ queue: pool.queue, pool: pool.pool, identity: pool.owner, limits: { maxLiveTasks: 1, pollMs: 20 } });
    stops.push(
      () => pool.queue.stop(),
      () => server.close(),
    );
    const remote = await connectA2AAgent(server.url, { maxReconnects: 1, reconnectDelayMs: 10 });
    // Nobody works the pool: the first task stays live, so the second send is over the live bound.
    const first = remote.delegate({ text: 'wait' }).catch(() => undefined);
    for (let i = 0; i < 100 && server.stats().live === 0; i++) await new Promise((res) => setTimeout(res, 10));
    await expect(remote.delegate({ text: 'one too many' })).rejects.toBeInstanceOf(A2ATaskRejectedError);
    expect(server.stats().rejected).toBe(1);
    server.stop();
    await first;
  });

  it('serves the HTTP+JSON binding to the official REST client', async () => {
    const { server, pool } = await serve();
    stops.push(pool.startWorker(sumOf));
    const client = await new ClientFactory({ transports: [new RestTransportFactory()], preferredTransports: ['HTTP+JSON'] }).createFromUrl(server.url);
    expect(client.transport.protocolName).toBe('HTTP+JSON');
    const task = await client.sendMessage(
      {
        tenant: '',
        message: {
          role: Role.ROLE_USER,
          messageId: crypto.randomUUID(),
          taskId: '',
          contextId: '',
          parts: [{ content: { $case: 'data', value: { numbers: [1, 1] } }, mediaType: 'application/json', filename: '', metadata: {} }],
          metadata: {},
          extensions: [],
          referenceTaskIds: [],
        },
        configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false },
        metadata: {},
      },
      { serviceParameters: { 'x-api-key': 'k-0123456789abcdef' } },
    );
    expect((task as { status?: { state: TaskState } }).status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
  });
});
