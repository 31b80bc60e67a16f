// Push notifications cannot be aimed at internal hosts (SSRF): a URL whose host is, or resolves
// to, a loopback, private, link-local or unspecified address is refused when the config is set
// and again at delivery (a DNS answer that changed since is caught), and a delivery connects to
// the address it checked, not to what the name resolves to at connect time.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TaskState } from '@a2a-js/sdk';
import { ClientFactory, type Client } from '@a2a-js/sdk/client';
import { PushTargetRefusedError, createA2AServer, dataPart, userMessage, isBlockedAddress, type A2AServer, type A2AServerOptions } from '@converge/a2a';
import { makePool, serverTestScope, sumOf } from './support/pool.js';

function send(numbers: number[], pushUrl?: string) {
  const message = userMessage([dataPart({ numbers })]);
  const taskPushNotificationConfig = pushUrl ? { tenant: '', id: 'cfg', taskId: '', url: pushUrl, token: '', authentication: undefined } : undefined;
  return { tenant: '', message, configuration: { acceptedOutputModes: [], taskPushNotificationConfig, returnImmediately: false }, metadata: {} } as never;
}

const scope = serverTestScope<A2AServer>();

/** A push receiver on 127.0.0.1: what it got, and its port. */
async function receiver(): Promise<{ received: string[]; port: number }> {
  const received: string[] = [];
  const hook = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  scope.stops.push(() => new Promise<void>((r) => hook.close(() => r())));
  return { received, port: (hook.address() as AddressInfo).port };
}

async function serve(extra: Partial<A2AServerOptions> = {}): Promise<Client> {
  scope.pool = await makePool();
  scope.server = await createA2AServer({
    queue: scope.pool.queue,
    pool: scope.pool.pool,
    identity: scope.pool.owner,
    capabilities: ['sum'],
    limits: { pollMs: 20 },
    ...extra,
  });
  scope.stops.push(scope.pool.startWorker(sumOf));
  return new ClientFactory().createFromUrl(scope.server.url);
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('push notification targets (SSRF)', () => {
  it('classifies loopback, private, link-local and unspecified addresses (IPv4-mapped included) as blocked, public ones not', () => {
    for (const a of [
      '127.0.0.1',
      '127.9.9.9',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '[::1]',
      'not-an-ip',
    ]) {
      expect([a, isBlockedAddress(a)]).toEqual([a, true]);
    }
    for (const a of ['93.184.216.34', '172.32.0.1', '192.0.2.1', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])
      expect([a, isBlockedAddress(a)]).toEqual([a, false]);
  });

  it('refuses a push config aimed at an internal address (or a name resolving to one) when it is set, counted; a public literal is accepted', async () => {
    const { received, port } = await receiver();
    const client = await serve();
    const r = (await client.sendMessage(send([1]))) as { id: string };
    const cfg = (id: string, url: string) => ({ tenant: '', id, taskId: r.id, url, token: '', authentication: undefined });
    const internal = [
      `http://127.0.0.1:${port}/hook`,
      `http://localhost:${port}/hook`,
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://2130706433/',
      'http://10.1.2.3/',
      'http://172.16.5.4/',
      'http://192.168.0.10/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/',
      'http://[fc00::1]/',
      'http://0.0.0.0/',
      'https://no-such-host.invalid/',
    ];
    for (const [i, url] of internal.entries()) await expect(client.createTaskPushNotificationConfig(cfg(`c${i}`, url))).rejects.toThrow();
    expect(scope.server!.stats().refused['push-target']).toBe(internal.length);
    await client.createTaskPushNotificationConfig(cfg('public', 'https://93.184.216.34/hook'));
    expect(scope.server!.stats().refused['push-target']).toBe(internal.length);
    // The same receiver as a config of a send: refused before anything is queued or posted.
    await expect(client.sendMessage(send([2], `http://127.0.0.1:${port}/hook`))).rejects.toThrow();
    expect(scope.server!.stats().refused['push-target']).toBe(internal.length + 1);
    expect(received).toEqual([]);
  });

  it('refuses at delivery a host that resolved to a public address when set and resolves to 127.0.0.1 now (DNS rebinding), counted, nothing posted', async () => {
    const { received, port } = await receiver();
    let lookups = 0;
    const client = await serve({
      // First answer (the config check) public, then the receiver's loopback address.
      resolvePushHost: async () => (lookups++ === 0 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]),
    });
    // `localhost` also resolves to the receiver through the system resolver: without the delivery check it would get the posts.
    const r = await client.sendMessage(send([20, 22], `http://localhost:${port}/hook`));
    expect((r as { status?: { state: TaskState } }).status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    await until(() => scope.server!.stats().push.refused >= 2 || received.length > 0);
    expect(received).toEqual([]);
    expect(scope.server!.stats().push.refused).toBeGreaterThanOrEqual(2);
    expect(scope.server!.stats().push.sent).toBe(0);
  });

  it('connects to the checked address, not to what the name resolves to at connect time', async () => {
    const { received, port } = await receiver();
    // The checked answer is an unroutable documentation address (192.0.2.1); the system would send `localhost` to the receiver.
    const client = await serve({ resolvePushHost: async () => [{ address: '192.0.2.1', family: 4 }], limits: { pollMs: 20, pushTimeoutMs: 300 } });
    await client.sendMessage(send([1, 1], `http://localhost:${port}/hook`));
    await until(() => scope.server!.stats().push.failed >= 1 || received.length > 0);
    expect(received).toEqual([]);
    expect(scope.server!.stats().push.failed).toBeGreaterThanOrEqual(1);
  });

  it('delivers to a 127.0.0.1 receiver when allowPrivatePushTargets is set, and to an allowlisted host', async () => {
    const a = await receiver();
    const client = await serve({ allowPrivatePushTargets: true });
    await client.sendMessage(send([3], `http://127.0.0.1:${a.port}/hook`));
    await until(() => a.received.some((b) => b.includes('TASK_STATE_COMPLETED')));
    expect(a.received.some((b) => b.includes('TASK_STATE_COMPLETED'))).toBe(true);
    await scope.server!.close();
    await scope.pool!.queue.stop();
    const b = await receiver();
    const client2 = await serve({ pushHostAllowlist: ['LOCALHOST'] });
    await client2.sendMessage(send([4], `http://localhost:${b.port}/hook`));
    await until(() => b.received.some((x) => x.includes('TASK_STATE_COMPLETED')));
    expect(b.received.some((x) => x.includes('TASK_STATE_COMPLETED'))).toBe(true);
    expect(scope.server!.stats().refused['push-target']).toBe(0);
  });

  it('is a PolicyError subclass with the origin and the address', async () => {
    const { checkPushTarget } = await import('@converge/a2a');
    const err = await checkPushTarget(new URL('http://169.254.169.254/x'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushTargetRefusedError);
    expect(err).toMatchObject({ code: 'ERR_A2A_PUSH_TARGET', origin: 'http://169.254.169.254', address: '169.254.169.254' });
  });
});
