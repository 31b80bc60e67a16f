// Queue groups: a pool of identical workers shares the messages of a topic subject.
import { afterEach, describe, expect, it } from 'vitest';
import { createMessage, createTopic, type Message } from '@converge/core';
import { NatsTransport } from '../src/index.js';
import { NATS_URL, uniquePrefix } from './helpers.js';

describe('NatsTransport queue groups', () => {
  const open: NatsTransport[] = [];
  afterEach(async () => {
    for (const t of open.splice(0)) await t.stop();
  });

  it('splits topic messages among 3 workers of one group: disjoint sets whose union is everything', async () => {
    const subjectPrefix = uniquePrefix('qg');
    const workers = [1, 2, 3].map((i) => new NatsTransport({ servers: NATS_URL, agentId: `worker${i}`, subjectPrefix, queueGroup: 'workers' }));
    const producer = new NatsTransport({ servers: NATS_URL, agentId: 'producer', subjectPrefix });
    open.push(...workers, producer);
    for (const w of workers) {
      w.subscribe('jobs');
      await w.start();
    }
    await producer.start();
    const sent: Message[] = Array.from({ length: 300 }, (_, i) =>
      createMessage({ sender: 'producer', recipient: null, topics: [createTopic('jobs')], payload: { i } }),
    );
    for (const m of sent) await producer.send(m);
    await producer.flush(); // the server has dispatched every message to some worker...
    for (const w of workers) await w.flush(); // ...and each worker has read what it was given
    const got = workers.map((w) => {
      const ids: string[] = [];
      for (let m = w.tryReceive(); m !== null; m = w.tryReceive()) ids.push(m.id);
      return ids;
    });
    const all = got.flat();
    expect(all.length).toBe(sent.length);
    expect(new Set(all)).toEqual(new Set(sent.map((m) => m.id)));
    for (let x = 0; x < 3; x++) for (let y = x + 1; y < 3; y++) expect(got[x]!.filter((id) => got[y]!.includes(id))).toEqual([]);
    // Shared, not copied: more than one worker took part.
    expect(got.filter((g) => g.length > 0).length).toBeGreaterThan(1);
  });

  it('without a group every subscriber gets every topic message, and a message with two of its namespaces only once', async () => {
    const subjectPrefix = uniquePrefix('noqg');
    const [x, y, p] = ['x', 'y', 'p'].map((id) => new NatsTransport({ servers: NATS_URL, agentId: id, subjectPrefix }));
    open.push(x!, y!, p!);
    x!.subscribe('a');
    x!.subscribe('b');
    y!.subscribe('b');
    for (const t of [x!, y!, p!]) await t.start();
    const m = createMessage({ sender: 'p', recipient: null, topics: [createTopic('a'), createTopic('b')], payload: 'both' });
    await p!.send(m);
    expect((await x!.receive({ timeoutMs: 10_000 }))?.id).toBe(m.id);
    expect((await y!.receive({ timeoutMs: 10_000 }))?.id).toBe(m.id);
    const marker = createMessage({ sender: 'p', recipient: 'x', payload: 'marker' });
    await p!.send(marker);
    // x's second copy (through 'b') was skipped: the next thing x sees is the marker.
    expect((await x!.receive({ timeoutMs: 10_000 }))?.id).toBe(marker.id);
    expect(p!.queued).toBe(0);
  });
});
