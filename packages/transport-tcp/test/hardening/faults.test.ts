// Fault injection on real sockets: a peer that crashes mid-frame, a consumer that stops
// reading (bounded memory, QueueFullError, no silent loss), and a partition that heals
// (the listener closes and every socket dies; later it listens again on the same port).
import { afterEach, describe, expect, it } from 'vitest';
import { Identity, QueueFullError, TransportError, createMessage, encodeMessage, signMessage, type Message } from '@converge/core';
import { encodeFrame } from '@converge/network/internal';
import { TcpTransport } from '../../src/index.js';
import { until } from '../../../../test/support/transport-helpers.js';
import { closed, rawSocket } from '../../../../test/support/wire.js';

const alice = Identity.generate();
const bob = Identity.generate();
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});
async function started(t: TcpTransport): Promise<TcpTransport> {
  await t.start();
  stops.push(() => t.stop());
  return t;
}
const msg = (i: number, pad = 0): Message => signMessage(createMessage({ recipient: bob.fingerprint, payload: { i, pad: 'x'.repeat(pad) } }), alice);

async function drain(t: TcpTransport, n: number): Promise<number[]> {
  const got: number[] = [];
  while (got.length < n) {
    const m = await t.receive({ timeoutMs: 10_000 });
    if (m === null) break;
    got.push((m.payload as { i: number }).i);
  }
  return got;
}

describe('faults', () => {
  it('a peer that crashes mid-frame: the partial frame is discarded and counted, other connections unaffected', async () => {
    const b = await started(new TcpTransport({ identity: bob }));
    const a = await started(new TcpTransport({ identity: alice, listen: false, peers: { [bob.fingerprint]: b.address } }));
    const frame = encodeFrame(encodeMessage(msg(-1, 1000)));
    const crashes = 40;
    const sending = (async () => {
      for (let i = 0; i < 500; i++) await a.send(msg(i));
    })();
    for (let c = 0; c < crashes; c++) {
      const s = await rawSocket(b.port);
      // Whole frames first, then a cut one, then the process "dies": FIN or RST.
      s.write(Buffer.concat([frame, frame, frame.subarray(0, 1 + ((c * 97) % (frame.byteLength - 1)))]));
      await new Promise((r) => setTimeout(r, 2));
      if (c % 2 === 0) s.resetAndDestroy();
      else s.destroy();
      await closed(s);
    }
    await sending;
    await until(() => b.stats.rejectedTruncated + b.stats.connectionsClosed >= 2 * crashes && b.openConnections === 1);
    const got = await drain(b, 500 + 2 * crashes);
    expect(got.filter((i) => i >= 0)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // A reset can discard data the kernel had not yet handed over, so the whole frames of a
    // reset connection may or may not arrive; every connection that ended mid-frame is counted.
    expect(got.filter((i) => i === -1).length).toBe(b.stats.framesReceived - 500);
    expect(b.stats.rejectedTruncated).toBeGreaterThanOrEqual(crashes / 2); // every FIN-ended one at least
    expect(b.stats.rejectedTruncated).toBeLessThanOrEqual(crashes);
    expect(b.stats.connectionsClosed).toBe(crashes);
    expect(b.stats.rejectedMalformed + b.stats.rejectedOversize).toBe(0);
  });

  it('a consumer that stops reading: bounded queues, QueueFullError, and every resolved send arrives once', async () => {
    const maxQueuePerPeer = 64;
    const b = await started(new TcpTransport({ identity: bob, maxReceiveQueue: 16 }));
    const a = await started(new TcpTransport({ identity: alice, listen: false, maxQueuePerPeer, peers: { [bob.fingerprint]: b.address } }));
    const total = 4_000;
    const outcomes: ('ok' | 'full' | 'other')[] = new Array(total);
    const pending: Promise<void>[] = [];
    let maxPending = 0;
    // b never calls receive: its queue fills, it pauses its sockets, the kernel buffers fill,
    // then a's per-peer queue. 16 KiB messages fill the loopback buffers quickly.
    for (let i = 0; i < total; i++) {
      pending.push(
        a.send(msg(i, 16 * 1024)).then(
          () => void (outcomes[i] = 'ok'),
          (e) => void (outcomes[i] = e instanceof QueueFullError ? 'full' : 'other'),
        ),
      );
      maxPending = Math.max(maxPending, a.pendingWrites);
      if (i % 32 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => outcomes.filter((o) => o !== undefined).length >= total - a.pendingWrites);
    expect(maxPending).toBeLessThanOrEqual(maxQueuePerPeer);
    expect(b.queued).toBeLessThanOrEqual(16);
    const full = outcomes.filter((o) => o === 'full').length;
    expect(full).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'other').length).toBe(0);
    // The consumer resumes: everything that was accepted arrives, exactly once, in order.
    const draining = (async () => {
      const got: number[] = [];
      for (;;) {
        const m = await b.receive({ timeoutMs: 1_000 });
        if (m === null) return got;
        got.push((m.payload as { i: number }).i);
      }
    })();
    await Promise.all(pending);
    const got = await draining;
    const ok = outcomes.flatMap((o, i) => (o === 'ok' ? [i] : []));
    expect(ok.length + full).toBe(total);
    expect(got).toEqual(ok);
    expect(b.stats.droppedReceiveQueueFull).toBe(0);
  });

  it('a partition and its heal: sends during it reject with TransportError, sends after it arrive', async () => {
    const b = new TcpTransport({ identity: bob });
    await b.start();
    const port = b.port;
    const a = await started(
      new TcpTransport({
        identity: alice,
        listen: false,
        peers: { [bob.fingerprint]: { host: '127.0.0.1', port } },
        reconnect: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
      }),
    );
    for (let i = 0; i < 50; i++) await a.send(msg(i));
    expect(await drain(b, 50)).toEqual(Array.from({ length: 50 }, (_, i) => i));

    // Partition: every socket between them dies and nothing listens any more.
    await b.stop();
    await until(() => a.openConnections === 0);
    const during = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => a.send(msg(100 + i))));
    for (const r of during) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TransportError);
      expect((r as PromiseRejectedResult).reason.code).toBe('ERR_CONNECT');
    }
    expect(a.stats.connectFailures).toBeGreaterThanOrEqual(3);

    // Heal: the same port listens again.
    const b2 = await started(new TcpTransport({ identity: bob, port }));
    for (let i = 200; i < 250; i++) await a.send(msg(i));
    expect(await drain(b2, 50)).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i));
    // One connection before the partition, one after the heal (the failed link was dropped from the pool).
    expect(a.stats.connectionsOpened).toBe(2);
  });
});
