import { ConfigError } from '@converge/core';
import { helpText, resolveConfig, type RunConfig } from './config.js';
import { runWorkload, type RunIO } from './run.js';
import { summaryTable, workerSummaryTable } from './summary.js';
import { runCoordinator } from './distributed/coordinator-role.js';
import { runWorker } from './distributed/worker-role.js';
import { EngineUnavailableError } from './stack.js';
import { runScenario } from './scenarios/run-scenario.js';
import { scenarioTable } from './scenarios/report.js';
import { replayMain } from './telemetry/replay-command.js';
import { benchCommand } from './bench-command.js';
import { UiListenError } from './ui/server.js';

const USAGE =
  'Usage: converge run [options]   (converge run --help for the options)\n' +
  '       converge replay FILE [options]   (re-drives a run recorded with --record FILE)\n' +
  '       converge bench [--store URL] [--seconds S] [--tasks N] [--json]\n';

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(command === undefined ? USAGE : helpText());
    return command === undefined ? 2 : 0;
  }
  if (command === 'replay') return replayMain(rest, { stdout: process.stdout, stderr: process.stderr });
  if (command === 'bench') return benchCommand(rest, env);
  if (command !== 'run') {
    process.stderr.write(`converge: unknown command ${JSON.stringify(command)}\n${USAGE}`);
    return 2;
  }
  let resolved;
  try {
    resolved = await resolveConfig(rest, env);
  } catch (err) {
    if (ConfigError.is(err)) {
      process.stderr.write(`converge: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (resolved.help) {
    process.stdout.write(helpText());
    return 0;
  }
  return runCommand(resolved.config);
}

/** The exit code of a run that a signal ended. */
function signalExit(sig: NodeJS.Signals | undefined): number {
  return sig === 'SIGINT' ? 130 : 143;
}

/** What a run's outcome function needs: the run's options and the signal that stopped it, if any. */
interface RunContext {
  io: RunIO;
  signalName: () => NodeJS.Signals | undefined;
}

/** `converge run`: one of the roles, a scenario or the sum workload, stopped gracefully by SIGINT/SIGTERM. */
async function runCommand(config: RunConfig): Promise<number> {
  const controller = new AbortController();
  let signalName: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalName) process.exit(signalExit(sig)); // a second signal: stop now
    signalName = sig;
    process.stderr.write(`converge: ${sig} received, stopping gracefully\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const ctx: RunContext = { io: { stderr: process.stderr, signal: controller.signal }, signalName: () => signalName };
    if (config.role === 'worker') return await workerRun(config, ctx);
    if (config.scenario !== undefined && config.scenario !== 'sum') return await scenarioRun(config, config.scenario, ctx);
    return await sumRun(config, ctx);
  } catch (err) {
    if (ConfigError.is(err)) {
      process.stderr.write(`converge: ${err.message}\n`);
      return 2;
    }
    if (err instanceof EngineUnavailableError || err instanceof UiListenError) {
      process.stderr.write(`converge: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `--role worker`: its summary; 1 when the coordinator did not finish in time. */
async function workerRun(config: RunConfig, ctx: RunContext): Promise<number> {
  const ws = await runWorker(config, ctx.io);
  process.stdout.write(config.json ? JSON.stringify(ws) + '\n' : workerSummaryTable(ws));
  if (ws.stopped_by === 'timeout') {
    process.stderr.write(`converge: the coordinator did not finish within --timeout-ms ${config.timeoutMs}\n`);
    return 1;
  }
  return ws.stopped_by === 'signal' ? signalExit(ctx.signalName()) : 0;
}

/** `--scenario NAME` (not sum): its report; 1 when a check failed. */
async function scenarioRun(config: RunConfig, scenario: NonNullable<RunConfig['scenario']>, ctx: RunContext): Promise<number> {
  const s = await runScenario({ ...config, scenario }, ctx.io);
  process.stdout.write(config.json ? JSON.stringify(s) + '\n' : scenarioTable(s));
  const sig = ctx.signalName();
  if (sig && !(config.ui !== undefined && !s.interrupted)) return signalExit(sig);
  if (!s.checks_passed) {
    const failed = Object.entries(s.checks)
      .filter(([, ok]) => !ok)
      .map(([k]) => k);
    process.stderr.write(`converge: scenario ${s.scenario}: check(s) failed: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}

/** The sum workload, in one process or as the coordinator: its summary; 1 on a wrong, lost or failed task. */
async function sumRun(config: RunConfig, ctx: RunContext): Promise<number> {
  const summary = config.role === 'coordinator' ? await runCoordinator(config, ctx.io) : await runWorkload(config, ctx.io);
  if (config.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(summaryTable(summary));
  if (summary.wrong_results > 0) {
    process.stderr.write(`converge: ${summary.wrong_results} task(s) completed with a wrong result\n`);
    return 1;
  }
  // --duration 0 and --a2a run until a signal: that is their normal end; with --ui a signal after the work is too.
  const lingered = config.ui !== undefined && !summary.interrupted;
  const sig = ctx.signalName();
  if (sig && config.duration === undefined && config.a2a === undefined && !lingered) return signalExit(sig);
  if (summary.lost > 0 || summary.failed > 0) {
    process.stderr.write(`converge: ${summary.lost} task(s) lost and ${summary.failed} failed out of ${summary.tasks}\n`);
    return 1;
  }
  return 0;
}
