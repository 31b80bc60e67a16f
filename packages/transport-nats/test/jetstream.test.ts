// JetStream mode against the real server: persistence while the receiver is stopped, explicit
// acks, redelivery of what was not acked.
import { afterEach, describe, expect, it } from 'vitest';
import { createMessage, type Message } from '@converge/core';
import { NatsTransport, defaultStreamName } from '../src/index.js';
import { NATS_URL, deleteStream, uniquePrefix } from './helpers.js';

describe('NatsTransport JetStream mode', () => {
  const open: NatsTransport[] = [];
  const streams: string[] = [];
  const make = (o: ConstructorParameters<typeof NatsTransport>[0]): NatsTransport => {
    const t = new NatsTransport(o);
    open.push(t);
    if (t.streamName) streams.push(t.streamName);
    return t;
  };
  afterEach(async () => {
    for (const t of open.splice(0)) await t.stop();
    for (const s of new Set(streams.splice(0))) await deleteStream(s);
  });

  // A short ack wait so that un-acked messages come back within the test (not a timed assertion).
  const setup = (autoAck = true): { prefix: string; sender: NatsTransport; receiver: () => NatsTransport } => {
    const prefix = uniquePrefix('js');
    const sender = make({ servers: NATS_URL, agentId: 'sender', subjectPrefix: prefix, directed: 'jetstream' });
    const receiver = (): NatsTransport =>
      make({ servers: NATS_URL, agentId: 'receiver', subjectPrefix: prefix, durable: 'receiver', autoAck, jetstream: { ackWaitMs: 500 } });
    return { prefix, sender, receiver };
  };
  const directed = (n: number): Message[] =>
    Array.from({ length: n }, (_, i) => createMessage({ sender: 'sender', recipient: 'receiver', payload: { seq: i } }));

  it('keeps messages sent while the receiver is stopped and delivers them, in order, when it restarts', async () => {
    const { prefix, sender, receiver } = setup();
    const first = receiver();
    await first.start(); // creates the durable consumer
    await first.stop();
    await sender.start();
    const sent = directed(20);
    for (const m of sent) await sender.send(m);
    const second = receiver();
    await second.start();
    const got: string[] = [];
    for (let i = 0; i < sent.length; i++) got.push((await second.receive({ timeoutMs: 10_000 }))!.id);
    expect(got).toEqual(sent.map((m) => m.id));
    expect(await second.receive({ timeoutMs: 50 })).toBeNull();
    expect(second.stats.acked).toBe(20);
    expect(defaultStreamName(prefix)).toBe(sender.streamName);
  });

  it('redelivers a message that was handed out but not acked, after the receiver restarts', async () => {
    const { sender, receiver } = setup(false);
    const first = receiver();
    await first.start();
    await sender.start();
    const [m1, m2] = directed(2);
    await sender.send(m1!);
    await sender.send(m2!);
    const got1 = await first.receive({ timeoutMs: 10_000 });
    const got2 = await first.receive({ timeoutMs: 10_000 });
    expect([got1?.id, got2?.id]).toEqual([m1!.id, m2!.id]);
    expect(first.ack(m2!.id)).toBe(true);
    expect(first.ack(m2!.id)).toBe(false); // already acked
    expect(first.unacked()).toEqual([m1!.id]);
    await first.stop(); // m1 stays un-acked on the server

    const second = receiver();
    await second.start();
    const again = await second.receive({ timeoutMs: 30_000 }); // after the 500 ms ack wait
    expect(again?.id).toBe(m1!.id);
    expect(second.ack(again!.id)).toBe(true);
    // m2 was acked: it does not come back.
    expect(await second.receive({ timeoutMs: 100 })).toBeNull();
  });

  it('stops pulling when the receive queue is full instead of dropping, and catches up later', async () => {
    const prefix = uniquePrefix('jsfull');
    const sender = make({ servers: NATS_URL, agentId: 'sender', subjectPrefix: prefix, directed: 'jetstream' });
    const receiver = make({ servers: NATS_URL, agentId: 'receiver', subjectPrefix: prefix, durable: 'receiver', maxQueue: 5, jetstream: { pullBatch: 5 } });
    await receiver.start();
    await sender.start();
    const sent = directed(40);
    for (const m of sent) await sender.send(m);
    const got: string[] = [];
    for (let i = 0; i < sent.length; i++) {
      expect(receiver.queued).toBeLessThanOrEqual(5);
      got.push((await receiver.receive({ timeoutMs: 10_000 }))!.id);
    }
    expect(got).toEqual(sent.map((m) => m.id));
    expect(receiver.stats.droppedQueueFull).toBe(0);
  });

  it('refuses a JetStream send when no stream captures the subject (TransportError, not silent)', async () => {
    const prefix = uniquePrefix('jsnostream');
    const sender = make({ servers: NATS_URL, agentId: 'sender', subjectPrefix: prefix, directed: 'jetstream' });
    await sender.start(); // creates the stream
    await deleteStream(sender.streamName!);
    await expect(sender.send(createMessage({ sender: 'sender', recipient: 'receiver', payload: 1 }))).rejects.toMatchObject({ name: 'TransportError' });
  });
});
