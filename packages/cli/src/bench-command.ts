import { parseArgs } from 'node:util';
import { ConfigError } from '@converge/core';
import { engineBench, engineTable, QUEUE_WORKERS } from './engine-bench.js';

/** Default `converge bench --seconds`: 3 s per loop. */
export const BENCH_DEFAULT_SECONDS = 3;
/** Default `converge bench --tasks`: 20,000 tasks submitted before each loop. */
export const BENCH_DEFAULT_TASKS = 20_000;

const BENCH_HELP = `Usage: converge bench [--store URL] [--seconds S] [--tasks N] [--json]

Claim + report per second on the task queue of --store (${QUEUE_WORKERS} loops), beside the bare
engine doing the same (PostgreSQL: a FOR UPDATE SKIP LOCKED loop; Redis: a Lua check-and-set
loop; for NATS JetStream run nats bench). Everything it writes is under fresh names, dropped after.

  --store URL    memory | postgres://… | redis://… | rediss://… | nats://… (env CONVERGE_STORE; default memory)
  --seconds S    how long each loop runs (default ${BENCH_DEFAULT_SECONDS}; 0.1 … 600)
  --tasks N      tasks submitted before each loop (default ${BENCH_DEFAULT_TASKS}; 1 … 10,000,000)
  --json         one JSON object per figure on stdout
`;

/** `converge bench [options]`: prints the engine figures of the user's setup; resolves to the exit code. */
export async function benchCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        store: { type: 'string' },
        seconds: { type: 'string' },
        tasks: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`converge bench: ${(err as Error).message.split('\n')[0]}\n${BENCH_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  const seconds = values.seconds === undefined ? BENCH_DEFAULT_SECONDS : Number(values.seconds);
  const tasks = values.tasks === undefined ? BENCH_DEFAULT_TASKS : Number(values.tasks);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 600) return refuse('--seconds must be a number in 0.1 … 600');
  if (!Number.isSafeInteger(tasks) || tasks < 1 || tasks > 10_000_000) return refuse('--tasks must be an integer in 1 … 10,000,000');
  const store = values.store ?? env.CONVERGE_STORE ?? 'memory';
  try {
    const figures = await engineBench({ store, ms: Math.round(seconds * 1000), tasks, log: (l) => process.stderr.write(`  ${l}\n`) });
    if (values.json) for (const f of figures) process.stdout.write(JSON.stringify(f) + '\n');
    else process.stdout.write(engineTable(figures));
    return 0;
  } catch (err) {
    if (ConfigError.is(err)) return refuse(err.message);
    process.stderr.write(`converge bench: ${(err as Error).message}\n`);
    return 1;
  }
}

function refuse(message: string): number {
  process.stderr.write(`converge bench: ${message}\n`);
  return 2;
}
