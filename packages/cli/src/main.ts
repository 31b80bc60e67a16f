import { ConfigError } from '@converge/core';
import { helpText, resolveConfig } from './config.js';
import { runWorkload } from './run.js';
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
  const { config } = resolved;
  const controller = new AbortController();
  let signalName: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalName) process.exit(sig === 'SIGINT' ? 130 : 143); // a second signal: stop now
    signalName = sig;
    process.stderr.write(`converge: ${sig} received, stopping gracefully\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const io = { stderr: process.stderr, signal: controller.signal };
    if (config.role === 'worker') {
      const ws = await runWorker(config, io);
      process.stdout.write(config.json ? JSON.stringify(ws) + '\n' : workerSummaryTable(ws));
      if (ws.stopped_by === 'timeout') {
        process.stderr.write(`converge: the coordinator did not finish within --timeout-ms ${config.timeoutMs}\n`);
        return 1;
      }
      return ws.stopped_by === 'signal' ? (signalName === 'SIGINT' ? 130 : 143) : 0;
    }
    if (config.scenario !== undefined && config.scenario !== 'sum') {
      const s = await runScenario({ ...config, scenario: config.scenario }, io);
      process.stdout.write(config.json ? JSON.stringify(s) + '\n' : scenarioTable(s));
      if (signalName && !(config.ui !== undefined && !s.interrupted)) return signalName === 'SIGINT' ? 130 : 143;
      if (!s.checks_passed) {
        const failed = Object.entries(s.checks).filter(([, ok]) => !ok).map(([k]) => k);
        process.stderr.write(`converge: scenario ${s.scenario}: check(s) failed: ${failed.join(', ')}\n`);
        return 1;
      }
      return 0;
    }
    const summary = config.role === 'coordinator' ? await runCoordinator(config, io) : await runWorkload(config, io);
    if (config.json) process.stdout.write(JSON.stringify(summary) + '\n');
    else process.stdout.write(summaryTable(summary));
    if (summary.wrong_results > 0) {
      process.stderr.write(`converge: ${summary.wrong_results} task(s) completed with a wrong result\n`);
      return 1;
    }
    // --duration 0 and --a2a run until a signal: that is their normal end; with --ui a signal after the work is too.
    const lingered = config.ui !== undefined && !summary.interrupted;
    if (signalName && config.duration === undefined && config.a2a === undefined && !lingered) return signalName === 'SIGINT' ? 130 : 143;
    if (summary.lost > 0 || summary.failed > 0) {
      process.stderr.write(`converge: ${summary.lost} task(s) lost and ${summary.failed} failed out of ${summary.tasks}\n`);
      return 1;
    }
    return 0;
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
