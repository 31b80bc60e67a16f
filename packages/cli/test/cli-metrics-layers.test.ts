// `converge run --metrics-port P`: a scrape DURING a run returns histograms and gauges from
// every layer (transport, verifier, inbox, task queue, auctions, runtime).
import { describe, expect, it } from 'vitest';
import { freePort, runCli } from './run-cli.js';

/** The value of the first sample line `name{labels…} value` (labels matched as a substring). */
function sample(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
    if (labels && !rest.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const typeOf = (text: string, name: string) => new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1];

/** What a scrape must show, per layer: [metric, type, check of its samples]. */
const EXPECTED: [layer: string, name: string, type: string, ok: (t: string) => boolean][] = [
  ['transport', 'converge_transport_connections', 'gauge', (t) => (sample(t, 'converge_transport_connections', 'direction="inbound"') ?? 0) > 0],
  [
    'transport',
    'converge_transport_bytes_received_total',
    'counter',
    (t) => (sample(t, 'converge_transport_bytes_received_total', 'transport="tcp"') ?? 0) > 0,
  ],
  ['verifier', 'converge_verify_duration_seconds', 'histogram', (t) => (sample(t, 'converge_verify_duration_seconds_count') ?? 0) > 0],
  ['inbox', 'converge_inbox_depth', 'gauge', (t) => sample(t, 'converge_inbox_depth') !== undefined],
  ['task queue', 'converge_tasks', 'gauge', (t) => (sample(t, 'converge_tasks', 'state="completed"') ?? 0) > 0],
  ['task queue', 'converge_task_claim_latency_seconds', 'histogram', (t) => (sample(t, 'converge_task_claim_latency_seconds_count') ?? 0) > 0],
  ['task queue', 'converge_task_run_latency_seconds', 'histogram', (t) => (sample(t, 'converge_task_run_latency_seconds_count') ?? 0) > 0],
  ['auctions', 'converge_auction_clearing_price', 'histogram', (t) => (sample(t, 'converge_auction_clearing_price_count', 'type="second-price"') ?? 0) > 0],
  ['runtime', 'converge_runtime_turn_duration_seconds', 'histogram', (t) => (sample(t, 'converge_runtime_turn_duration_seconds_count') ?? 0) > 0],
  ['runtime', 'converge_runtime_outcomes_total', 'counter', (t) => (sample(t, 'converge_runtime_outcomes_total', 'status="ok"') ?? 0) > 0],
];

const missing = (text: string) => EXPECTED.filter(([, name, type, ok]) => typeOf(text, name) !== type || !ok(text)).map(([layer, name]) => `${layer}: ${name}`);

describe('converge run --metrics-port: every layer on /metrics during a run', () => {
  it('a scrape while tasks flow shows the gauges and histograms of transport, verifier, inbox, task queue, auctions and runtime', async () => {
    const port = await freePort();
    let scraped: string | undefined;
    let phaseAtScrape: string | undefined;
    let probing: Promise<void> | undefined;
    const r = await runCli(['run', '--duration', '0', '--agents', '2', '--transport', 'tcp', '--metrics-port', String(port), '--json'], {
      timeoutMs: 90_000,
      onStderr: (text, child) => {
        if (probing || !/progress: [1-9]/.test(text)) return;
        probing = (async () => {
          // Scrape until every layer has reported (bounded: a hang guard only), then stop the run.
          for (let i = 0; i < 150; i++) {
            try {
              scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
              phaseAtScrape = ((await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string }).status;
            } catch {
              scraped = undefined;
            }
            if (scraped && missing(scraped).length === 0) break;
            await new Promise((res) => setTimeout(res, 100));
          }
          child.kill('SIGTERM');
        })();
      },
    });
    await probing;
    expect(r.code, r.stderr).toBe(0);
    expect(scraped, 'no scrape answered').toBeDefined();
    // The scrape was taken while the run was running (ready), not after.
    expect(phaseAtScrape).toBe('ok');
    expect(missing(scraped!)).toEqual([]);
  }, 120_000);
});
