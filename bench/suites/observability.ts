// raw.pino / obs.log_lines: lines/s of bare pino and of `createLogger` (defaults: JSON,
// redaction of secret-like keys) to an asynchronous file destination; goal ratio >= 0.9.
// obs.counter_inc: ops/s of a labelled counter increment.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { MetricsCollector, closeLogger, createLogger } from '@converge/observability';
import { opsPerSecond, type BenchContext } from '../harness.js';

// Lines per timed call; the call then yields once so that the asynchronous destination can
// write (without it, a synchronous loop only fills memory and measures nothing of the I/O).
const BATCH = 256;

function lineLoop(logger: Logger): () => Promise<void> {
  let n = 0;
  return async () => {
    for (let i = 0; i < BATCH; i++) logger.info({ agentId: 'agent-1', taskId: 'task-7', n: n++ }, 'task progress');
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
}

function endDestination(dest: ReturnType<typeof pino.destination>): Promise<void> {
  return new Promise((resolve, reject) => {
    dest.once('close', () => resolve());
    dest.once('error', reject);
    dest.end();
  });
}

export default async function observabilityBench(ctx: BenchContext): Promise<void> {
  const durationMs = 1500 * ctx.scale;
  const dir = mkdtempSync(join(tmpdir(), 'converge-bench-obs-'));
  try {
    const rawFile = join(dir, 'raw.log');
    const obsFile = join(dir, 'obs.log');
    const rawDest = pino.destination({ dest: rawFile, sync: false });
    const raw = pino(rawDest);
    const obs = createLogger({ destination: obsFile });

    // Alternate the two twice and keep each one's best run, so that drift (page cache, CPU
    // frequency, another process) does not favour whichever ran second.
    let rawBest = 0;
    let obsBest = 0;
    for (let round = 0; round < 2; round++) {
      rawBest = Math.max(rawBest, await opsPerSecond(lineLoop(raw), { durationMs: durationMs / 2, batch: BATCH }));
      obsBest = Math.max(obsBest, await opsPerSecond(lineLoop(obs), { durationMs: durationMs / 2, batch: BATCH }));
    }
    await endDestination(rawDest);
    await closeLogger(obs);
    ctx.log(`wrote ${(statSync(rawFile).size / 1e6).toFixed(0)} MB (raw) and ${(statSync(obsFile).size / 1e6).toFixed(0)} MB (obs)`);
    ctx.report({ name: 'raw.pino', value: rawBest, unit: 'lines/s' });
    ctx.report({ name: 'obs.log_lines', value: obsBest, unit: 'lines/s', baseline: 'raw.pino' });

    const metrics = new MetricsCollector();
    const counter = metrics.counter('converge_bench_events_total', 'Benchmark events', ['reason']);
    const labels = { reason: 'replay' };
    ctx.report({ name: 'obs.counter_inc', value: await opsPerSecond(() => counter.inc(labels), { durationMs }), unit: 'ops/s' });
    if (counter.get(labels) <= 0) throw new Error('the counter did not count');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
