import { describe, expect, it } from 'vitest';
import { createTask } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { MetricsCollector } from '@converge/observability';
import { BiddingProtocol, TASK_LATENCY_BUCKETS, TaskManager } from '../src/index.js';

function setup(maxRetries = 1) {
  const store = new MemoryStore();
  const clock = { now: 1_000_000 };
  const metrics = new MetricsCollector();
  const tm = new TaskManager({ store, clock: () => clock.now, metrics, defaults: { claimTtlMs: 1_000, maxRetries, retryBaseMs: 0, retryMaxMs: 0 } });
  const tasks = (state: string) => metrics.gauge('converge_tasks', "Tasks by state (net of this manager's transitions)", ['state']).get({ state });
  return { clock, metrics, tm, tasks };
}

describe('TaskManager metrics (TaskMeters)', () => {
  it('keeps tasks by state and times submit -> claim and claim -> report', async () => {
    const { clock, metrics, tm, tasks } = setup();
    for (const id of ['a', 'b', 'c']) await tm.submit(createTask({ id, objective: 'x' }));
    expect(tasks('pending')).toBe(3);
    clock.now += 250;
    const la = await tm.claim('w', 'a');
    const lb = await tm.claim('w', 'b');
    expect([tasks('pending'), tasks('assigned')]).toEqual([1, 2]);
    await tm.start('w', 'a', la);
    expect([tasks('assigned'), tasks('running')]).toEqual([1, 1]);
    clock.now += 500;
    await tm.report('w', 'a', 1, la);
    await tm.report('w', 'b', 2, lb);
    expect([tasks('pending'), tasks('assigned'), tasks('running'), tasks('completed')]).toEqual([1, 0, 0, 2]);
    const claim = metrics.histogram('converge_task_claim_latency_seconds', 'Time from submit to a won claim, seconds', [], [...TASK_LATENCY_BUCKETS]).get();
    expect(claim).toEqual({ count: 2, sum: 0.5 });
    const text = await metrics.metrics();
    expect(text).toContain('converge_task_run_latency_seconds_count 2');
    expect(text).toContain('converge_task_run_latency_seconds_sum 1');
    expect(text).toMatch(/# TYPE converge_tasks gauge/);
  });

  it('counts a failed attempt and an expired lease as retries, and a task out of retries as a dead letter', async () => {
    const { clock, metrics, tm, tasks } = setup(1);
    await tm.submit(createTask({ id: 't', objective: 'x' }));
    const first = await tm.claim('w', 't');
    await tm.fail('t', 'boom', 'w', first);
    expect(tasks('pending')).toBe(1);
    await tm.claim('w', 't');
    clock.now += 5_000; // the second lease runs out: no retries left
    const released = await tm.releaseExpiredClaims();
    expect(released.map((r) => r.outcome)).toEqual(['dead-lettered']);
    const text = await metrics.metrics();
    expect(text).toContain('converge_task_retries_total 1');
    expect(text).toContain('converge_task_dead_letters_total 1');
    expect([tasks('pending'), tasks('assigned'), tasks('failed')]).toEqual([0, 0, 1]);
  });

  it('an expired lease with retries left goes back to pending and counts one retry', async () => {
    const { clock, metrics, tm, tasks } = setup(3);
    await tm.submit(createTask({ id: 't', objective: 'x' }));
    await tm.claim('w', 't');
    clock.now += 5_000;
    await tm.releaseExpiredClaims();
    expect([tasks('pending'), tasks('assigned')]).toEqual([1, 0]);
    expect(await metrics.metrics()).toContain('converge_task_retries_total 1');
  });
});

describe('BiddingProtocol metrics', () => {
  it('records the clearing price of won auctions by type and counts outcomes', async () => {
    const metrics = new MetricsCollector();
    const bidding = new BiddingProtocol({ metrics });
    bidding.openAuction({ id: 'x', type: 'second-price' });
    bidding.bid('x', 'a', 7);
    bidding.bid('x', 'b', 3);
    expect(bidding.resolve('x')).toMatchObject({ winner: 'a', price: 3 });
    bidding.resolve('x'); // the same result again: not counted twice
    bidding.openAuction({ id: 'y', type: 'first-price' });
    bidding.resolve('y');
    const text = await metrics.metrics();
    expect(text).toContain('converge_auction_clearing_price_sum{type="second-price"} 3');
    expect(text).toContain('converge_auction_clearing_price_count{type="second-price"} 1');
    expect(text).toContain('converge_auctions_resolved_total{type="second-price",outcome="won"} 1');
    expect(text).toContain('converge_auctions_resolved_total{type="first-price",outcome="no-bids"} 1');
  });
});
