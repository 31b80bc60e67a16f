// The official A2A client (@a2a-js/sdk) calls a Converge pool served by createA2AServer: the
// card is fetched and its signature verified (the SDK's own verifier, over the JWKS), a message
// is streamed to completion, a task is cancelled, a retried send yields the same task, and
// credentials, body size and rate are enforced.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { importJWK } from 'jose';
import { Role, TaskState, verifyAgentCardSignature, type Message, type StreamResponse } from '@a2a-js/sdk';
import { ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory, RestTransportFactory, type Client } from '@a2a-js/sdk/client';
import { PolicyError } from '@converge/core';
import { JWKS_PATH, createA2AServer, verifyAgentCard, type A2AServer, type A2AServerOptions } from '@converge/a2a';
import { makePool, serverTestScope, sumOf, type TestPool } from './support/pool.js';

const TOKEN = 'bearer-secret-1';
const KEY = 'api-key-secret-2';
const auth = { bearer: { serviceParameters: { authorization: `Bearer ${TOKEN}` } } };

function userMessage(parts: Message['parts'], messageId = crypto.randomUUID()): Message {
  return { role: Role.ROLE_USER, messageId, taskId: '', contextId: '', parts, metadata: {}, extensions: [], referenceTaskIds: [] };
}
const data = (value: unknown): Message['parts'][number] => ({ content: { $case: 'data', value }, mediaType: 'application/json', filename: '', metadata: {} });
const text = (value: string): Message['parts'][number] => ({ content: { $case: 'text', value }, mediaType: 'text/plain', filename: '', metadata: {} });
const send = (message: Message, returnImmediately = false) => ({
  tenant: '',
  message,
  configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately },
  metadata: {},
});

const scope = serverTestScope<A2AServer>();

async function serve(extra: Partial<A2AServerOptions> = {}): Promise<{ client: Client; server: A2AServer; pool: TestPool }> {
  const pool = (scope.pool = await makePool());
  const server = (scope.server = await createA2AServer({
    queue: pool.queue,
    pool: pool.pool,
    identity: pool.owner,
    capabilities: ['sum'],
    auth: { bearerTokens: { [TOKEN]: 'alice' }, apiKeys: { [KEY]: 'bob' } },
    limits: { pollMs: 20 },
    ...extra,
  }));
  const client = await new ClientFactory({ transports: [new JsonRpcTransportFactory(), new RestTransportFactory()] }).createFromUrl(server.url);
  return { client, server, pool };
}

describe('A2A server, called by the official SDK client', () => {
  it('serves a card signed by the pool owner that the SDK verifier accepts through the JWKS, and a changed card fails', async () => {
    const { server, pool } = await serve();
    const card = await new DefaultAgentCardResolver().resolve(server.url);
    expect(card.skills.map((s) => s.id)).toEqual(['sum', 'topic:math[]v1.0']);
    expect(Object.keys(card.securitySchemes).sort()).toEqual(['apiKey', 'bearer']);
    expect(card.signatures).toHaveLength(1);
    const jwks = (await (await fetch(new URL(JWKS_PATH, server.url))).json()) as { keys: { kid: string }[] };
    expect(jwks.keys[0]!.kid).toBe(pool.owner.fingerprint);
    const sdkVerify = verifyAgentCardSignature(
      async (kid) =>
        importJWK(
          jwks.keys.find((k) => k.kid === kid)!,
          'EdDSA',
        ) as never,
    );
    await expect(sdkVerify(card)).resolves.toBeUndefined();
    await expect(sdkVerify({ ...card, name: 'someone else' })).rejects.toThrow(/No valid signatures/);
    const resolveKey = async (kid: string) => jwks.keys.find((k) => k.kid === kid);
    await expect(verifyAgentCard(card, resolveKey)).resolves.toMatchObject({ keyFingerprint: pool.owner.fingerprint });
    await expect(verifyAgentCard({ ...card, skills: [] }, resolveKey)).rejects.toThrow(/no signature of the agent card verifies/);
  });

  it('streams a sent message to completion: submitted, working, the result artifact, completed', async () => {
    const { client, pool } = await serve();
    scope.stops.push(
      pool.startWorker(async (t) => {
        await new Promise((r) => setTimeout(r, 100));
        return sumOf(t);
      }),
    );
    const events: StreamResponse[] = [];
    for await (const ev of client.sendMessageStream(send(userMessage([text('add these'), data({ numbers: [1, 2, 3, 4] })])), auth.bearer)) events.push(ev);
    const first = events[0]!.payload;
    expect(first?.$case).toBe('task');
    const taskId = first?.$case === 'task' ? first.value.id : '';
    expect(first?.$case === 'task' && first.value.status?.state).toBe(TaskState.TASK_STATE_SUBMITTED);
    const states = events.flatMap((e) => (e.payload?.$case === 'statusUpdate' ? [e.payload.value.status?.state] : []));
    expect(states).toContain(TaskState.TASK_STATE_WORKING);
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
    const artifact = events.find((e) => e.payload?.$case === 'artifactUpdate');
    expect(artifact?.payload?.$case === 'artifactUpdate' && artifact.payload.value.artifact?.parts[0]?.content).toEqual({ $case: 'data', value: 10 });
    // The A2A task is the Converge task.
    const queued = await pool.queue.get(taskId);
    expect(queued.state).toBe('completed');
    expect(queued.result).toBe(10);
    expect(queued.inputs.text).toBe('add these');
    const got = await client.getTask({ tenant: '', id: taskId }, auth.bearer);
    expect(got.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const listed = await client.listTasks(
      { tenant: '', contextId: '', status: TaskState.TASK_STATE_UNSPECIFIED, pageToken: '', statusTimestampAfter: undefined },
      auth.bearer,
    );
    expect(listed.tasks.map((t) => t.id)).toContain(taskId);
  });

  it('SubscribeToTask follows a task sent without waiting until it completes', async () => {
    const { client, pool } = await serve();
    const r = await client.sendMessage(send(userMessage([data({ numbers: [9, 9] })]), true), auth.bearer);
    const id = (r as { id: string }).id;
    const states: (TaskState | undefined)[] = [];
    const follow = (async () => {
      for await (const ev of client.resubscribeTask({ tenant: '', id }, auth.bearer)) {
        if (ev.payload?.$case === 'statusUpdate') states.push(ev.payload.value.status?.state);
        if (ev.payload?.$case === 'task') states.push(ev.payload.value.status?.state);
      }
    })();
    await new Promise((res) => setTimeout(res, 100));
    scope.stops.push(pool.startWorker(sumOf));
    await follow;
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect((await client.getTask({ tenant: '', id }, auth.bearer)).artifacts[0]?.parts[0]?.content).toEqual({ $case: 'data', value: 18 });
  });

  it('holds at most maxStoredTasks A2A tasks; an evicted finished task is still read back from the queue, by its caller only', async () => {
    const { client, pool, server } = await serve({ limits: { maxStoredTasks: 2, pollMs: 20 } });
    scope.stops.push(pool.startWorker(sumOf));
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push(((await client.sendMessage(send(userMessage([data({ numbers: [n] })])), auth.bearer)) as { id: string }).id);
    expect(server.stats()).toMatchObject({ storedTasks: 2, evictedTasks: 1 });
    const listed = await client.listTasks(
      { tenant: '', contextId: '', status: TaskState.TASK_STATE_UNSPECIFIED, pageToken: '', statusTimestampAfter: undefined },
      auth.bearer,
    );
    expect(listed.tasks.map((t) => t.id).sort()).toEqual(ids.slice(1).sort());
    const first = await client.getTask({ tenant: '', id: ids[0]! }, auth.bearer);
    expect(first.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(first.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'data', value: 1 });
    await expect(client.getTask({ tenant: '', id: ids[0]! }, { serviceParameters: { 'x-api-key': KEY } })).rejects.toThrow();
  });

  it('cancels a queued task: the A2A task is canceled and so is the Converge task', async () => {
    const { client, pool } = await serve();
    const r = await client.sendMessage(send(userMessage([data({ numbers: [1] })]), true), auth.bearer);
    expect('id' in r && r.status?.state).toBe(TaskState.TASK_STATE_SUBMITTED);
    const id = (r as { id: string }).id;
    const cancelled = await client.cancelTask({ tenant: '', id, metadata: {} }, auth.bearer);
    expect(cancelled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    expect((await pool.queue.get(id)).state).toBe('cancelled');
  });

  it('answers a retried send (same messageId, same caller) with the same task, submitted once', async () => {
    const { client, pool, server } = await serve();
    scope.stops.push(pool.startWorker(sumOf));
    const m = userMessage([data({ numbers: [5, 6] })]);
    const a = await client.sendMessage(send(m), auth.bearer);
    const b = await client.sendMessage(send(m), auth.bearer);
    expect((a as { id: string }).id).toBe((b as { id: string }).id);
    expect((b as { status?: { state: TaskState } }).status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const page = await pool.queue.list({ poolId: pool.poolId });
    expect(page.tasks).toHaveLength(1);
    expect(server.stats()).toMatchObject({ submitted: 1, idempotentReplays: 1 });
    // Another caller reusing the message id gets a task of its own.
    const c = await client.sendMessage(send(m), { serviceParameters: { 'x-api-key': KEY } });
    expect((c as { id: string }).id).not.toBe((a as { id: string }).id);
  });

  it('rejects a send that the admission hook refuses (TASK_STATE_REJECTED), with nothing queued', async () => {
    const { client, pool, server } = await serve({
      admit: ({ principal }) => {
        if (principal === 'alice') throw new PolicyError('alice may not submit');
      },
    });
    const r = await client.sendMessage(send(userMessage([text('hi')])), auth.bearer);
    expect((r as { status?: { state: TaskState } }).status?.state).toBe(TaskState.TASK_STATE_REJECTED);
    expect((await pool.queue.list({ poolId: pool.poolId })).tasks).toHaveLength(0);
    expect(server.stats().rejected).toBe(1);
  });

  it('refuses calls without valid credentials (401) and accepts the API key scheme', async () => {
    const { client, server } = await serve();
    await expect(client.sendMessage(send(userMessage([text('hi')]), true))).rejects.toThrow();
    await expect(client.sendMessage(send(userMessage([text('hi')]), true), { serviceParameters: { authorization: 'Bearer wrong' } })).rejects.toThrow();
    const res = await fetch(new URL('a2a/jsonrpc', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'x' } }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(server.stats().refused.auth).toBe(3);
    const ok = await client.sendMessage(send(userMessage([text('hi')]), true), { serviceParameters: { 'x-api-key': KEY } });
    expect('id' in ok).toBe(true);
  });

  it('refuses a body over maxBodyBytes with 413 before it reaches the handler', async () => {
    const { client, server } = await serve({ limits: { maxBodyBytes: 2_048, pollMs: 20 } });
    const big = 'x'.repeat(4_096);
    await expect(client.sendMessage(send(userMessage([text(big)]), true), auth.bearer)).rejects.toThrow();
    const res = await fetch(new URL('a2a/jsonrpc', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ pad: big }),
    });
    expect(res.status).toBe(413);
    expect(server.stats().refused.body).toBe(2);
    expect(server.stats().submitted).toBe(0);
  });

  it('refuses requests over the rate limit with 429', async () => {
    const { server } = await serve({ limits: { ratePerSecond: 1, rateBurst: 3, pollMs: 20 } });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await fetch(new URL('.well-known/agent-card.json', server.url))).status);
    expect(codes.slice(0, 2)).toEqual([200, 200]);
    expect(codes).toContain(429);
    expect(server.stats().refused.rate).toBeGreaterThan(0);
  });

  it('refuses push configs to URLs allowPushUrl does not allow, and more than maxPushConfigsPerTask per task', async () => {
    const { client, server } = await serve({
      allowPushUrl: (u) => u.hostname === 'hooks.example',
      pushHostAllowlist: ['hooks.example'],
      limits: { maxPushConfigsPerTask: 1, pollMs: 20 },
    });
    const r = await client.sendMessage(send(userMessage([text('x')]), true), auth.bearer);
    const taskId = (r as { id: string }).id;
    const cfg = (id: string, url: string) => ({ tenant: '', id, taskId, url, token: '', authentication: undefined });
    await expect(client.createTaskPushNotificationConfig(cfg('a', 'http://10.0.0.1/hook'), auth.bearer)).rejects.toThrow();
    await client.createTaskPushNotificationConfig(cfg('b', 'https://hooks.example/1'), auth.bearer);
    await expect(client.createTaskPushNotificationConfig(cfg('c', 'https://hooks.example/2'), auth.bearer)).rejects.toThrow();
    expect(server.stats().refused).toMatchObject({ 'push-url': 1, 'push-configs': 1 });
  });

  it('delivers push notifications to the configured URL (a 127.0.0.1 receiver, allowPrivatePushTargets) with their authentication', async () => {
    const received: { auth: string | undefined; body: string }[] = [];
    const hook = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    scope.stops.push(() => new Promise<void>((r) => hook.close(() => r())));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const { client, pool } = await serve({ allowPrivatePushTargets: true });
    scope.stops.push(pool.startWorker(sumOf));
    const req = send(userMessage([data({ numbers: [2, 2] })]));
    req.configuration.taskPushNotificationConfig = {
      tenant: '',
      id: 'cfg-1',
      taskId: '',
      url: hookUrl,
      token: '',
      authentication: { scheme: 'Bearer', credentials: 'push-secret' },
    } as never;
    const r = await client.sendMessage(req, auth.bearer);
    expect((r as { status?: { state: TaskState } }).status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    for (let i = 0; i < 50 && !received.some((x) => x.body.includes('TASK_STATE_COMPLETED')); i++) await new Promise((res) => setTimeout(res, 20));
    expect(received.length).toBeGreaterThan(0);
    expect(received.every((x) => x.auth === 'Bearer push-secret')).toBe(true);
    expect(received.some((x) => x.body.includes('TASK_STATE_COMPLETED'))).toBe(true);
  });
});
