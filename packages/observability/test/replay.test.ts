import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Agent,
  DecodeError,
  Decisions,
  EncodeError,
  Float64,
  Identity,
  createMessage,
  createTask,
  createTopic,
  encodeMessage,
  signMessage,
  verifyMessage,
  type Decision,
  type Message,
  type Task,
} from '@converge/core';
import { MetricsCollector, ReplayFormatError, ReplayLog, replay, fromTagged, toTagged, dataEqual } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'converge-obs-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alice = Identity.generate();
const bob = Identity.generate();

function signed(payload: Record<string, unknown>): Message {
  return signMessage(
    createMessage({ recipient: bob.fingerprint, topics: [createTopic('tasks', { w: new Float64(2), n: 3 })], payload: payload as never }),
    alice,
  );
}

/** Echo agent: answers every message with a SendMessage carrying its payload's `n`, doubled. */
class Doubler extends Agent {
  decide(messages: readonly Message[], tasks: readonly Task[]): Decision[] {
    const out: Decision[] = messages.map((m) => Decisions.sendMessage(m.sender, { n: (m.payload as { n: number }).n * 2, f: new Float64(1) }));
    for (const t of tasks) out.push(Decisions.claimTask(t.id));
    return out;
  }
}

describe('ReplayLog', () => {
  it('round-trips signed messages and decisions through a file: bytes equal, signatures verify', async () => {
    const file = join(dir, 'live.ndjson');
    const log = new ReplayLog({ file });
    const msgs = [
      signed({ n: 1, big: 2n ** 60n, raw: new Uint8Array([0, 255]) }),
      signed({ n: 2, f: new Float64(3) }),
      signed({ n: 3, m: new Map([['1', 'x']]) }),
    ];
    for (const m of msgs) log.recordMessage(m);
    const task = createTask({ objective: 'x', inputs: { k: new Float64(1.0) } });
    const decisions: Decision[] = [
      Decisions.sendMessage(bob.fingerprint, {
        v: new Float64(2),
        big: -(2n ** 63n),
        bytes: new Uint8Array([1, 2, 3]),
        map: new Map([
          ['2', 1],
          ['1', 2],
        ]),
        neg0: -0,
        nan: Number.NaN,
      }),
      Decisions.delegate(bob.fingerprint, ['a']),
      { type: 'Custom', $weird: 'dollar', nested: { undef: undefined } },
    ];
    log.recordDecisions(alice.fingerprint, decisions, msgs.slice(0, 2), [task]);
    log.close();

    for (const loaded of [await ReplayLog.load(file), ReplayLog.parse(readFileSync(file, 'utf8'))]) {
      const entries = loaded.entries();
      expect(entries.map((e) => e.kind)).toEqual(['message', 'message', 'message', 'decision']);
      entries.slice(0, 3).forEach((e, i) => {
        if (e.kind !== 'message') throw new Error('expected a message');
        expect(Buffer.from(e.bytes).equals(Buffer.from(encodeMessage(msgs[i]!)))).toBe(true);
        expect(Buffer.from(encodeMessage(e.message)).equals(Buffer.from(encodeMessage(msgs[i]!)))).toBe(true);
        expect(verifyMessage(e.message, alice.publicKey)).toBe(true);
        expect(e.message.id).toBe(msgs[i]!.id);
      });
      const d = entries[3]!;
      if (d.kind !== 'decision') throw new Error('expected a decision');
      expect(d.agentId).toBe(alice.fingerprint);
      expect(d.inputs).toEqual([msgs[0]!.id, msgs[1]!.id]);
      expect(dataEqual(d.decisions, decisions)).toBe(true);
      const p = (d.decisions[0] as { payload: Record<string, unknown> }).payload;
      expect(p.v).toBeInstanceOf(Float64);
      expect(p.big).toBe(-(2n ** 63n));
      expect(p.bytes).toEqual(new Uint8Array([1, 2, 3]));
      expect([...(p.map as Map<string, number>).keys()]).toEqual(['2', '1']);
      expect(Object.is(p.neg0, -0)).toBe(true);
      expect(Number.isNaN(p.nan)).toBe(true);
      expect((d.decisions[2] as Record<string, unknown>).$weird).toBe('dollar');
      expect('undef' in (d.decisions[2] as unknown as { nested: object }).nested).toBe(true);
      expect(d.tasks![0]!.inputs.k).toBeInstanceOf(Float64);
      expect(dataEqual(d.tasks, [task])).toBe(true);
    }
  });

  it('export writes what is in memory; decoded messages keep their exact bytes', async () => {
    const log = new ReplayLog();
    const msgs = [signed({ n: 1 }), signed({ n: 2 })];
    for (const m of msgs) log.recordMessage(m);
    const file = join(dir, 'export.ndjson');
    log.export(file);
    const again = await ReplayLog.load(file);
    again.export(join(dir, 'export2.ndjson'));
    expect(readFileSync(join(dir, 'export2.ndjson'), 'utf8')).toBe(readFileSync(file, 'utf8'));
    expect(again.toNDJSON()).toBe(log.toNDJSON());
  });

  it('is bounded: evicts the oldest entries, counts them and reports a metric', () => {
    const metrics = new MetricsCollector();
    const log = new ReplayLog({ maxEntries: 3, metrics });
    const msgs = Array.from({ length: 5 }, (_, n) => signed({ n }));
    for (const m of msgs) log.recordMessage(m);
    expect(log.size).toBe(3);
    expect(log.evicted).toBe(2);
    expect(log.entries().map((e) => (e.kind === 'message' ? e.message.id : ''))).toEqual(msgs.slice(2).map((m) => m.id));
    expect(log.entries().map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(metrics.counter('converge_replay_evicted_total', 'x').get()).toBe(2);
    expect(metrics.counter('converge_replay_entries_total', 'x', ['kind']).get({ kind: 'message' })).toBe(5);
    const byBytes = new ReplayLog({ maxBytes: 1000 });
    for (const m of msgs) byBytes.recordMessage(m);
    expect(byBytes.size).toBeLessThan(5);
    expect(byBytes.size).toBeGreaterThan(0);
    expect(byBytes.evicted).toBe(5 - byBytes.size);
  });

  it('keeps eviction correct over many entries (compaction)', () => {
    const log = new ReplayLog({ maxEntries: 10 });
    const m = signed({ n: 0 });
    for (let i = 0; i < 5000; i++) log.recordDecisions('a', [Decisions.claimTask(String(i))], []);
    log.recordMessage(m);
    expect(log.size).toBe(10);
    expect(log.evicted).toBe(4991);
    const entries = log.entries();
    expect(entries[0]!.seq).toBe(4991);
    expect(entries.at(-1)!.kind).toBe('message');
  });

  it('refuses truncated or corrupt lines with ReplayFormatError naming the line', async () => {
    const log = new ReplayLog();
    log.recordMessage(signed({ n: 1 }));
    log.recordMessage(signed({ n: 2 }));
    const text = log.toNDJSON();
    const [l1, l2] = text.trim().split('\n') as [string, string];
    const cases: [string, number][] = [
      [`${l1}\n${l2.slice(0, l2.length - 10)}`, 2], // truncated last line
      [`${l1}\nnot json\n${l2}\n`, 2],
      [`${l1}\n${l2.replace(/"bytes":"[A-Za-z0-9+/]{8}/, '"bytes":"AAAAAAAA')}\n`, 2], // corrupt message bytes
      [`${l1.replace('"v":1', '"v":9')}\n`, 1],
      [`${l1.replace('"kind":"message"', '"kind":"other"')}\n`, 1],
      [`\n${JSON.stringify({ v: 1, seq: 0, at: 0, kind: 'decision', agentId: 'a', inputs: [], decisions: [{ type: 'X', v: { $bogus: 1 } }] })}\n`, 2],
      [`${JSON.stringify({ v: 1, seq: 0, at: 0, kind: 'decision', agentId: 'a', inputs: [1], decisions: [] })}\n`, 1],
    ];
    for (const [body, line] of cases) {
      const file = join(dir, `bad-${line}-${Math.random().toString(36).slice(2)}.ndjson`);
      writeFileSync(file, body);
      const err = await ReplayLog.load(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReplayFormatError);
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as ReplayFormatError).line).toBe(line);
      expect((err as ReplayFormatError).code).toBe('ERR_REPLAY_FORMAT');
      expect((err as Error).message).toContain(`line ${line}`);
    }
  });

  it('refuses decisions that are not plain data and bad limits', () => {
    const log = new ReplayLog();
    expect(() => log.recordDecisions('a', [{ type: 'X', when: new Date() }], [])).toThrow(EncodeError);
    const cyclic: Record<string, unknown> = { type: 'X' };
    cyclic.self = cyclic;
    expect(() => log.recordDecisions('a', [cyclic as Decision], [])).toThrow(EncodeError);
    expect(log.size).toBe(0);
    expect(() => new ReplayLog({ maxEntries: 0 })).toThrow(/maxEntries/);
  });

  it('recordDecisions records inputs that were not recorded yet, once', () => {
    const log = new ReplayLog();
    const m = signed({ n: 4 });
    log.recordMessage(m);
    const fresh = signed({ n: 5 });
    log.recordDecisions('a', [], [m, fresh]);
    expect(log.entries().map((e) => e.kind)).toEqual(['message', 'message', 'decision']);
  });
});

describe('tagged JSON', () => {
  it('round-trips every wire type', () => {
    const value = {
      a: [1, 1.5, new Float64(2), 2n ** 64n, -0, Infinity, -Infinity, null, true, 's', new Uint8Array([9])],
      m: new Map([['k', new Map([['z', 1]])]]),
      $k: undefined,
    };
    const back = fromTagged(JSON.parse(JSON.stringify(toTagged(value))));
    expect(dataEqual(back, value)).toBe(true);
    expect(dataEqual(new Float64(2), 2)).toBe(false);
    expect(dataEqual(2n, 2)).toBe(false);
    expect(dataEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(
      dataEqual(
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
        new Map([
          ['b', 2],
          ['a', 1],
        ]),
      ),
    ).toBe(false);
  });
});

describe('replay', () => {
  async function recordRun(agent: Agent, log: ReplayLog, batches: Message[][], tasks: Task[] = []): Promise<void> {
    for (const batch of batches) {
      for (const m of batch) log.recordMessage(m);
      log.recordDecisions(agent.id, await agent.decide(batch, tasks), batch, tasks);
    }
  }

  it('reproduces a deterministic agent step by step, through a file', async () => {
    const agent = new Doubler({ identity: bob });
    const file = join(dir, 'run.ndjson');
    const log = new ReplayLog({ file });
    const task = createTask({ objective: 't' });
    await recordRun(agent, log, [[signed({ n: 1 }), signed({ n: 2 })], [], [signed({ n: 3 })]], [task]);
    log.close();
    const report = await replay(await ReplayLog.load(file), new Doubler());
    expect(report).toEqual({ steps: 3, mismatches: [] });
  });

  it('reports each step whose decisions differ', async () => {
    const log = new ReplayLog();
    await recordRun(new Doubler({ identity: bob }), log, [[signed({ n: 1 })], [signed({ n: 2 })]]);
    class Tripler extends Agent {
      decide(messages: readonly Message[]): Decision[] {
        return messages.map((m) => {
          const n = (m.payload as { n: number }).n;
          // Same as Doubler for n = 1 (2 = 1 * 2), different for n = 2 (in value) — and Float64 vs number.
          return Decisions.sendMessage(m.sender, n === 1 ? { n: 2, f: new Float64(1) } : { n: 6, f: 1 });
        });
      }
    }
    const report = await replay(log, new Tripler());
    expect(report.steps).toBe(2);
    expect(report.mismatches).toHaveLength(1);
    const [mm] = report.mismatches;
    expect(mm!.step).toBe(1);
    expect((mm!.expected[0] as unknown as { payload: { n: number } }).payload.n).toBe(4);
    expect((mm!.actual[0] as unknown as { payload: { n: number } }).payload.n).toBe(6);
  });

  it('reports missing inputs and decide errors as mismatches, filters by agent id and stops on abort', async () => {
    const log = new ReplayLog({ maxEntries: 3 });
    const agent = new Doubler({ identity: bob });
    const m1 = signed({ n: 1 });
    log.recordMessage(m1);
    log.recordDecisions(agent.id, agent.decide([m1], []), [m1]);
    log.recordDecisions('other-agent', [], []);
    log.recordDecisions(agent.id, [], [m1]); // evicts m1: both steps' input is gone
    expect(log.evicted).toBe(1);
    const report = await replay(log, agent, { agentId: agent.id });
    expect(report.steps).toBe(2);
    expect(report.mismatches.map((m) => m.error)).toEqual([expect.stringContaining(m1.id), expect.stringContaining('not in the log')]);
    expect(report.mismatches.map((m) => m.actual)).toEqual([[], []]);
    class Thrower extends Agent {
      decide(): Decision[] {
        throw new Error('nope');
      }
    }
    const r2 = await replay(log, new Thrower(), { agentId: 'other-agent' });
    expect(r2.mismatches[0]!.error).toContain('nope');
    const ac = new AbortController();
    ac.abort();
    await expect(replay(log, agent, { signal: ac.signal })).rejects.toThrow(/abort/);
  });
});

describe('ReplayLog.load', () => {
  it('stops on an aborted signal', async () => {
    const log = new ReplayLog();
    log.recordMessage(signed({ n: 1 }));
    const file = join(dir, 'abort.ndjson');
    log.export(file);
    const ac = new AbortController();
    ac.abort();
    await expect(ReplayLog.load(file, { signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect((await ReplayLog.load(file)).size).toBe(1);
  });
});
