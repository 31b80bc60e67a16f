// `converge run --scenario NAME`, in-process (short sizes): each scenario runs in its own world
// and its summary says what happened; the registry is an instance; bad names are refused.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConflictError } from '@converge/core';
import { resolveConfig } from '../src/config.js';
import { runScenario, type ScenarioSummary } from '../src/scenarios/run-scenario.js';
import { ScenarioRegistry, builtinScenarios } from '../src/scenarios/registry.js';
import { SCENARIO_NAMES } from '../src/scenarios/names.js';
import { AUCTION_TYPES } from '../src/scenarios/market.js';

async function run(args: string[]): Promise<ScenarioSummary> {
  const { config } = await resolveConfig([...args, '--log-level', 'silent'], {});
  return runScenario({ ...config, scenario: config.scenario! }, { stderr: process.stderr, tty: false });
}

describe('converge run --scenario', () => {
  it('market: auctions of every type clear with prices, and the winners do the work', async () => {
    const s = await run(['--scenario', 'market', '-t', '24', '-n', '4']);
    expect(s.checks_passed, JSON.stringify(s.checks)).toBe(true);
    expect(s).toMatchObject({ scenario: 'market', tasks: 24, completed: 24, lost: 0, wrong_results: 0 });
    const auctions = s.details.auctions as Record<
      string,
      { opened: number; cleared: number; unsold: number; mean_price: number | null; min_price: number | null }
    >;
    // Every task went to auction; an auction nobody bid in in time (a loaded machine) is unsold
    // and its task offered to every capable worker.
    expect(Object.values(auctions).reduce((n, a) => n + a.opened, 0)).toBe(24);
    expect(Object.values(auctions).reduce((n, a) => n + a.cleared + a.unsold, 0)).toBe(24);
    expect(s.auctioned).toBe(Object.values(auctions).reduce((n, a) => n + a.cleared, 0));
    for (const type of AUCTION_TYPES) {
      expect(auctions[type]!.cleared, type).toBeGreaterThan(0);
      expect(auctions[type]!.min_price, type).toBeGreaterThanOrEqual(10); // the reserve price
    }
    // Every auction won shows up once in the per-agent view, with its clearing price.
    const won = s.per_agent.reduce((n, a) => n + a.auctions_won, 0);
    expect(won).toBe(s.auctioned);
    for (const a of s.per_agent) expect(a.clearing_prices).toHaveLength(a.auctions_won);
    expect(s.per_agent.reduce((n, a) => n + a.tasks_done, 0)).toBe(24);
    // Workers differ: at least two of them won something, and trust rose for those that worked.
    expect(s.per_agent.filter((a) => a.auctions_won > 0).length).toBeGreaterThanOrEqual(2);
    for (const a of s.per_agent.filter((x) => x.tasks_done > 0)) expect(a.trust).toBeGreaterThan(0.5);
  });

  it('negotiation: agreements are reached (some offers refused) before the work', async () => {
    const s = await run(['--scenario', 'negotiation', '-t', '16', '-n', '4']);
    expect(s.checks_passed, JSON.stringify(s.checks)).toBe(true);
    const d = s.details as { agreements: number; rejections: number; protocol: { accepted: number; rejected: number } };
    expect(d.agreements).toBeGreaterThan(0);
    // worker-4 asks 140 against a budget of 100: its negotiations end rejected.
    expect(d.rejections).toBeGreaterThan(0);
    expect(d.protocol.accepted).toBe(d.agreements);
    expect(d.protocol.rejected).toBe(d.rejections);
    expect(s.completed).toBe(16);
  });

  it("vote: the pool's governance admits one newcomer and refuses the other by the members' votes", async () => {
    const s = await run(['--scenario', 'vote', '-t', '12', '-n', '4']);
    expect(s.checks_passed, JSON.stringify(s.checks)).toBe(true);
    const decisions = s.details.decisions as { question: string; subject: string; state: string; yes: number; no: number }[];
    expect(decisions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ question: 'admit', subject: 'newcomer-useful', state: 'approved' }),
        expect.objectContaining({ question: 'admit', subject: 'newcomer-spam', state: 'rejected' }),
      ]),
    );
    const ballot = s.details.ballot as { outcome: string; winner: string | null };
    expect(ballot.outcome).toBe('winner');
    expect(s.per_agent.find((a) => a.name === 'newcomer-spam')!.tasks_done).toBe(0);
    expect(s.completed).toBe(12);
  });

  it('delegation: a grant revoked mid-run takes its re-delegations with it; the rest finish the work', async () => {
    const s = await run(['--scenario', 'delegation', '-t', '30', '-n', '4']);
    expect(s.checks_passed, JSON.stringify(s.checks)).toBe(true);
    const d = s.details as { delegated: number; revoked: number; refused: number; workers_revoked: number; revoked_at_completed: number };
    expect(d.revoked).toBe(3); // the sub-lead's grant and its two workers'
    expect(d.workers_revoked).toBe(2);
    expect(d.refused).toBeGreaterThan(0); // a sub-lead handing on a right it does not hold
    expect(d.revoked_at_completed).toBeLessThan(30);
    // The revocation is enforced: the revoked workers' next claims are refused by the policy
    // (they were not told), and at most the batches already in flight complete after it.
    const e = s.details as { revoked_workers_claims_refused: number; revoked_workers_done_after: number };
    expect(e.revoked_workers_claims_refused).toBeGreaterThan(0);
    expect(e.revoked_workers_done_after).toBeLessThanOrEqual(8);
    expect(s.completed).toBe(30);
  });

  it('llm: the work is done by the model-backed worker against the local fake model server', async () => {
    const s = await run(['--scenario', 'llm', '-t', '10', '-n', '1']);
    expect(s.checks_passed, JSON.stringify(s.checks)).toBe(true);
    expect(s.details.tasks_done_by_llm).toBe(10);
    expect(s.details.model_requests as number).toBeGreaterThan(0);
    expect(s.per_agent.find((a) => a.name === 'llm-worker-1')!.tasks_done).toBe(10);
    expect(s.completed).toBe(10);
  });

  it('chaos: retries and lease expiries happen, nothing is lost, each task completes once or is dead-lettered', async () => {
    const s = await run(['--scenario', 'chaos', '-t', '30', '-n', '3']);
    expect(s.checks_passed, JSON.stringify(s.checks)).toBe(true);
    expect(s.totals.retries).toBeGreaterThan(0);
    expect(s.totals.lease_expiries).toBeGreaterThan(0);
    expect(s.totals.dead_letters).toBeGreaterThan(0);
    expect(s.lost).toBe(0);
    expect(s.totals.completed_twice).toBe(0);
    expect(s.completed + s.totals.dead_letters).toBe(30);
    expect(s.failed).toBe(s.totals.dead_letters);
    expect(s.totals.outcomes_by_status.timeout).toBeGreaterThan(0);
    // The wrong-key signer's messages are rejected with their reason, and its trust falls.
    const signer = s.per_agent.find((a) => a.name === 'wrong-key')!;
    expect(signer.rejected_messages.bad_signature).toBe(5);
    expect(s.totals.rejected_by_reason.bad_signature).toBe(5);
    expect(signer.trust).toBeLessThan(0.5);
    expect(s.details.connection_drops).toBe(1);
    expect(s.details.crashed).toBe(2);
  });
});

describe('converge run --scenario --metrics-port', () => {
  it("serves the world's metrics and probes while the scenario runs, and closes them after", async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const running = run(['--scenario', 'market', '-t', '40', '-n', '3', '--metrics-port', String(port)]);
    let body = '';
    for (let i = 0; i < 200 && !body.includes('converge_decisions_total'); i++) {
      body = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      if (!body.includes('converge_decisions_total')) await new Promise((r) => setTimeout(r, 10));
    }
    const s = await running;
    expect(s.checks_passed).toBe(true);
    expect(body).toMatch(/converge_decisions_total\{type="SubmitBid",outcome="ok"\} [1-9]/);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});

describe('the scenario registry', () => {
  it('holds the built-in scenarios in help order, per instance', () => {
    const a = builtinScenarios();
    expect(a.names()).toEqual([...SCENARIO_NAMES]);
    const b = new ScenarioRegistry();
    expect(b.names()).toEqual([]);
    expect(() => a.register(a.get('market'))).toThrow(ConflictError);
    expect(() => a.get('nope')).toThrow(ConfigError);
  });

  it('refuses an unknown --scenario and a scenario in a distributed role', async () => {
    await expect(resolveConfig(['--scenario', 'markt'], {})).rejects.toThrow(/--scenario must be one of market, negotiation, vote, delegation, llm, chaos/);
    await expect(resolveConfig(['--scenario', 'market', '--role', 'worker', '--store', 'file:/tmp/x', '--transport', 'tcp'], {})).rejects.toThrow(
      /--scenario is only for --role all/,
    );
  });
});
