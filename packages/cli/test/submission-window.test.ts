// The main job's credit-based flow control (the coordinator submits only while fewer than
// `window` tasks are in flight; each settled task returns a credit) and the workload's message
// batching (one call for bids per worker per turn, one bids and one done message per worker
// turn), checked on the agents themselves and on a whole `converge run`.
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, type Decision, type Message, type Task } from '@converge/core';
import { CoordinatorAgent, WorkerAgent, type CoordinatorOptions } from '../src/index.js';
import { SUBMIT_TASKS } from '../src/workload/coordinator.js';
import { taskBody } from '../src/workload/plan.js';
import { runCli } from './run-cli.js';

function coordinator(options: Partial<CoordinatorOptions> & { total: number }): CoordinatorAgent {
  let i = 0;
  return new CoordinatorAgent({
    identity: Identity.generate(),
    poolId: 'p',
    assignment: 'claim',
    workers: () => [],
    plan: function* () {
      while (i < options.total) yield taskBody('p', i++, 5_000);
    },
    ...options,
  });
}

const submits = (ds: Decision[]) => ds.filter((d) => d.type === 'SubmitTask').length;

describe('submission window', () => {
  it('submits no more than the window until tasks settle, then one more per settled task', () => {
    let settled = 0;
    const c = coordinator({ total: 100, window: 10, settled: () => settled });
    expect(submits(c.decide([], []))).toBe(10);
    expect(c.inFlight).toBe(10);
    expect(submits(c.decide([], []))).toBe(0); // no credit left
    settled = 4;
    expect(c.credits).toBe(4);
    expect(submits(c.decide([], []))).toBe(4);
    expect(c.inFlight).toBe(10);
    settled = 14;
    expect(submits(c.decide([], []))).toBe(10);
    expect(c.submitted).toBe(24);
  });

  it('counts open auctions as in flight', () => {
    const c = coordinator({ total: 100, window: 5, settled: () => 0, assignment: 'auction', workers: () => ['w1', 'w2'] });
    const out = c.decide([], []);
    expect(c.openAuctions).toBe(5);
    expect(c.inFlight).toBe(5);
    expect(c.credits).toBe(0);
    // One call for bids per worker, naming all five auctions.
    const calls = out.filter((d) => d.type === 'SendMessage');
    expect(calls).toHaveLength(2);
    for (const d of calls) expect((d as unknown as { payload: { auctionIds: string[] } }).payload.auctionIds).toHaveLength(5);
  });

  it('without a window submits its batch size per turn (unbounded in flight)', () => {
    const c = coordinator({ total: 2_000, submitBatch: 300 });
    expect(submits(c.decide([], []))).toBe(300);
    expect(submits(c.decide([], []))).toBe(300);
    expect(c.credits).toBe(Number.POSITIVE_INFINITY);
  });

  it("batchSubmit puts a turn's submits into one SubmitTasks decision, in order", () => {
    const c = coordinator({ total: 7, window: 100, settled: () => 0, batchSubmit: true });
    const out = c.decide([], []);
    expect(out.filter((d) => d.type === 'SubmitTask')).toEqual([]);
    const batch = out.find((d) => d.type === SUBMIT_TASKS) as { tasks: { id: string }[] } | undefined;
    expect(batch?.tasks.map((t) => t.id)).toEqual(Array.from({ length: 7 }, (_, i) => `p:task:${i}`));
    expect(c.exhausted).toBe(true);
  });
});

describe('workload messages, batched per turn', () => {
  const coordinatorId = Identity.generate();
  function callForBids(ids: string[], to: string): Message {
    return createMessage({ sender: coordinatorId.fingerprint, recipient: to, payload: { type: 'call-for-bids', auctionIds: ids } });
  }

  it('a worker answers every auction of a turn in one bids message and reports its done tasks in one message', () => {
    const w = new WorkerAgent({ identity: Identity.generate(), coordinatorId: coordinatorId.fingerprint });
    const tasks = Array.from({ length: 5 }, (_, i) => ({ ...taskBody('p', i, 5_000), state: 'pending' }) as unknown as Task);
    const out = w.decide([callForBids(['a1', 'a2', 'a3'], w.id)], tasks);
    const messages = out.filter((d) => d.type === 'SendMessage') as unknown as {
      payload: { type: string; bids?: { auctionId: string }[]; taskIds?: string[] };
    }[];
    expect(messages.map((m) => m.payload.type)).toEqual(['bids', 'done']);
    expect(messages[0]!.payload.bids!.map((b) => b.auctionId)).toEqual(['a1', 'a2', 'a3']);
    expect([...messages[1]!.payload.taskIds!].sort()).toEqual(tasks.map((t) => t.id).sort());
    expect(out.filter((d) => d.type === 'ReportTask')).toHaveLength(5);
  });

  it('the coordinator takes every bid of a bids message (and still the one-bid form)', () => {
    const c = coordinator({ total: 3, assignment: 'auction', workers: () => ['w1', 'w2'], window: 10, settled: () => 0 });
    c.decide([], []);
    expect(c.openAuctions).toBe(3);
    const bids = (sender: string): Message =>
      createMessage({
        sender,
        recipient: c.id,
        payload: { type: 'bids', bids: ['p:task:0', 'p:task:1', 'p:task:2'].map((auctionId, k) => ({ auctionId, amount: 10 + k })) },
      });
    const single = createMessage({ sender: 'w2', recipient: c.id, payload: { type: 'bid', auctionId: 'p:task:0', amount: 5 } });
    // w1 bids on all three; w2 only on the first: that auction closes (all workers bid), the others wait.
    const out = c.decide([bids('w1'), single], []);
    expect(c.auctioned).toBe(1);
    expect(c.openAuctions).toBe(2);
    const submitted = out.find((d) => d.type === 'SubmitTask') as unknown as { task: { id: string; constraints: { reservedFor: string } } };
    expect(submitted.task.id).toBe('p:task:0');
    expect(submitted.task.constraints.reservedFor).toBe('w1');
  });

  it('a malformed call for bids names no auction', () => {
    const w = new WorkerAgent({ identity: Identity.generate() });
    const junk = createMessage({ sender: coordinatorId.fingerprint, recipient: w.id, payload: { type: 'call-for-bids', auctionIds: [1, null, { x: 1 }] } });
    expect(w.decide([junk], [])).toEqual([]);
  });
});

describe('converge run with a small window', () => {
  it('completes every task with --window 3 (the window bounds the in-flight tasks, not the total)', async () => {
    const r = await runCli(['run', '--agents', '3', '--tasks', '120', '--window', '3', '--json', '--no-progress'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s).toMatchObject({ tasks: 120, completed: 120, lost: 0, wrong_results: 0, auctioned: 12 });
    expect(s.latency_ms.p99).toBeGreaterThanOrEqual(s.latency_ms.p90);
    expect(s.latency_ms.max).toBeGreaterThanOrEqual(s.latency_ms.p999);
  }, 70_000);

  it('refuses --window 0', async () => {
    const r = await runCli(['run', '--window', '0'], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('window');
  }, 40_000);
});
