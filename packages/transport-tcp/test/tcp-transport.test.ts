// TcpTransport over real sockets on 127.0.0.1: routing, errors, reconnect, backpressure,
// limits and clean shutdown.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, createMessage, createTopic, FrameTooLargeError, Identity, NotStartedError, QueueFullError, signMessage } from '@converge/core';
import { TransportError } from '@converge/core';
import { TcpTransport } from '../src/index.js';
import { until } from '../../../test/support/transport-helpers.js';

const alice = Identity.generate();
const bob = Identity.generate();
const open: TcpTransport[] = [];
const servers: net.Server[] = [];

type TcpOptions = ConstructorParameters<typeof TcpTransport>[0];

function tcp(options: TcpOptions = {}): TcpTransport {
  const t = new TcpTransport({ reconnect: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 }, ...options });
  open.push(t);
  return t;
}

/** Starts a sender `a` and a receiver `b` (each with its options), with `b` in `a`'s address book as bob. */
async function connectedPair(aOptions: TcpOptions = {}, bOptions: TcpOptions = {}): Promise<{ a: TcpTransport; b: TcpTransport }> {
  const a = tcp(aOptions);
  const b = tcp(bOptions);
  await a.start();
  await b.start();
  a.addPeer(bob.fingerprint, b.address);
  return { a, b };
}

function msg(n: number, recipient: string | null = bob.fingerprint, extra: object = {}) {
  return signMessage(createMessage({ recipient, payload: { n, ...extra } }), alice);
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('TcpTransport', () => {
  it('picks a free port, routes by the address book and keeps per-sender order on one pooled connection', async () => {
    const { a, b } = await connectedPair({ identity: alice }, { identity: bob });
    expect(b.port).toBeGreaterThan(0);
    const sends = [];
    for (let i = 0; i < 500; i++) sends.push(a.send(msg(i)));
    await Promise.all(sends);
    for (let i = 0; i < 500; i++) {
      const m = await b.receive();
      expect(m?.payload).toEqual({ n: i });
      expect(m?.sender).toBe(alice.fingerprint);
    }
    expect(a.stats.connectionsOpened).toBe(1); // one pooled connection for 500 frames
    expect(a.stats.framesSent).toBe(500);
    expect(b.stats.framesReceived).toBe(500);
  });

  it('routes by the transport.tcp topic, and replies flow back over a second pool', async () => {
    const a = tcp();
    const b = tcp();
    await a.start();
    await b.start();
    await a.send(signMessage(createMessage({ topics: [b.addressTopic()], payload: 'hi' }), alice));
    const got = await b.receive();
    expect(got?.payload).toBe('hi');
    await b.send(signMessage(createMessage({ topics: [createTopic('transport.tcp', { host: '127.0.0.1', port: a.port })], payload: 'back' }), bob));
    expect((await a.receive())?.payload).toBe('back');
  });

  it('refuses a message without a route with TransportError ERR_NO_ROUTE (never a silent drop)', async () => {
    const a = tcp();
    await a.start();
    const err = await a.send(msg(1, 'unknown-recipient')).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.code).toBe('ERR_NO_ROUTE');
    await expect(a.send(msg(1, null))).rejects.toMatchObject({ code: 'ERR_NO_ROUTE' });
    expect(a.stats.sendErrors).toBe(2);
  });

  it('rejects with TransportError ERR_CONNECT after the bounded dial attempts when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const a = tcp();
    await a.start();
    a.addPeer(bob.fingerprint, { host: '127.0.0.1', port });
    const err = await a.send(msg(1)).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.code).toBe('ERR_CONNECT');
    expect(a.stats.connectFailures).toBe(3);
    expect(a.openConnections).toBe(0);
  });

  it('refuses an oversize message on send with FrameTooLargeError before writing anything', async () => {
    const { a } = await connectedPair({ maxFrameBytes: 1000 });
    const err = await a.send(msg(1, bob.fingerprint, { blob: 'x'.repeat(2000) })).catch((e) => e);
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect(err.limit).toBe(1000);
    expect(a.stats.framesSent).toBe(0);
    expect(a.stats.connectionsOpened).toBe(0);
  });

  it('refuses an inbound frame over maxFrameBytes: counted, connection closed, others unaffected', async () => {
    const { a, b } = await connectedPair({}, { maxFrameBytes: 1000 });
    await a.send(msg(1, bob.fingerprint, { blob: 'x'.repeat(2000) }));
    await until(() => b.stats.rejectedOversize === 1 && b.openConnections === 0);
    await a.send(msg(2)); // a notices the loss and re-dials
    expect((await b.receive())?.payload).toEqual({ n: 2 });
  });

  it('reconnects after the connection is lost and delivers later sends', async () => {
    const { a, b } = await connectedPair();
    const port = b.port;
    await a.send(msg(1));
    expect((await b.receive())?.payload).toEqual({ n: 1 });
    await b.stop();
    await until(() => a.openConnections === 0);
    const b2 = tcp({ port });
    await b2.start();
    await a.send(msg(2));
    expect((await b2.receive())?.payload).toEqual({ n: 2 });
    expect(a.stats.connectionsOpened).toBe(2);
  });

  it('bounds the per-peer write queue: QueueFullError beyond maxQueuePerPeer', async () => {
    const { a, b } = await connectedPair({ maxQueuePerPeer: 10 });
    // Sent in one tick, before the connection exists: 10 wait, the 11th is refused at once.
    const results = await Promise.allSettled(Array.from({ length: 11 }, (_, i) => a.send(msg(i))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(QueueFullError);
    for (let i = 0; i < 10; i++) expect((await b.receive())?.payload).toEqual({ n: i });
  });

  it('waits for drain when the socket buffer is full, then delivers everything in order', async () => {
    // A raw server that stops reading: the sender's socket buffer fills and writes must wait.
    let serverSocket: net.Socket | undefined;
    const received: Buffer[] = [];
    const server = net.createServer((s) => {
      serverSocket = s;
      s.pause();
      s.on('data', (d) => received.push(d));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = tcp();
    await a.start();
    a.addPeer(bob.fingerprint, { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    const big = 'y'.repeat(256 * 1024);
    let sentCount = 0;
    const total = 96; // 24 MiB: more than the loopback socket buffers hold
    const sender = (async () => {
      for (let i = 0; i < total; i++) {
        await a.send(msg(i, bob.fingerprint, { big }));
        sentCount++;
      }
    })();
    // Connected, some frames written, and one waiting for the socket to drain.
    await until(() => serverSocket !== undefined && a.stats.framesSent > 0 && a.pendingWrites > 0);
    expect(sentCount).toBeLessThan(total);
    serverSocket!.resume();
    await sender;
    expect(sentCount).toBe(total);
    await until(() => received.reduce((n, b) => n + b.byteLength, 0) === a.stats.bytesSent);
    serverSocket!.destroy();
  });

  it('resolves pending receives with null on stop, honours AbortSignal and timeoutMs', async () => {
    const a = tcp();
    await a.start();
    expect(await a.receive({ timeoutMs: 1 })).toBeNull();
    const ac = new AbortController();
    const aborted = a.receive({ signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    const pending = a.receive();
    await a.stop();
    expect(await pending).toBeNull();
    await expect(a.send(msg(1))).rejects.toBeInstanceOf(NotStartedError);
    await expect(a.receive()).rejects.toBeInstanceOf(NotStartedError);
    await a.stop(); // idempotent
  });

  it('rejects sends still queued when stop() is called', async () => {
    const { a } = await connectedPair();
    const p = a.send(msg(1)); // waits for the dial
    await a.stop();
    await expect(p).rejects.toMatchObject({ code: 'ERR_STOPPED' });
  });

  it('an aborted send waiting in the queue rejects with AbortError', async () => {
    const { a, b } = await connectedPair();
    const ac = new AbortController();
    const p = a.send(msg(1), { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
    await a.send(msg(2));
    expect((await b.receive())?.payload).toEqual({ n: 2 });
  });

  it('destroys every inbound and outbound socket on stop()', async () => {
    const { a, b } = await connectedPair();
    b.addPeer(alice.fingerprint, a.address);
    await a.send(msg(1));
    await b.send(msg(2, alice.fingerprint));
    await b.receive();
    await a.receive();
    expect(a.openConnections).toBe(2);
    await a.stop();
    expect(a.openConnections).toBe(0);
    await until(() => b.openConnections === 0);
  });

  it('connect-then-close 1,000 times leaves nothing behind', async () => {
    const b = tcp();
    await b.start();
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            new Promise<void>((resolve) => {
              const s = net.connect({ host: '127.0.0.1', port: b.port }, () => s.destroy());
              s.on('error', () => undefined);
              s.on('close', () => resolve());
            }),
        ),
      );
    }
    await until(() => b.stats.connectionsClosed === 1000);
    expect(b.stats.connectionsOpened).toBe(1000);
    expect(b.openConnections).toBe(0);
    expect(b.queued).toBe(0);
  });

  it('fails start() with ERR_LISTEN when the port is taken', async () => {
    const a = tcp();
    await a.start();
    const b = tcp({ port: a.port });
    await expect(b.start()).rejects.toMatchObject({ code: 'ERR_LISTEN' });
    expect(b.started).toBe(false);
  });
});
