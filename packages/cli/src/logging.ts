import { createLogger, type Logger } from '@converge/observability';
import type { RunConfig } from './config.js';

/**
 * The CLI's logger on stderr. `-v` (with the default `--log-level warn`) means debug: decisions
 * and their outcomes, task state changes and the scenarios' decisions (auction cleared,
 * agreement, vote decided…). Pretty lines (pino-pretty) when stderr is a terminal, JSON lines
 * otherwise, so a pipe or a log collector gets one parseable object per line.
 */
export function cliLogger(config: Pick<RunConfig, 'logLevel' | 'verbose'>, tty: boolean): Logger {
  const level = config.verbose && config.logLevel === 'warn' ? 'debug' : config.logLevel;
  return createLogger({ level, pretty: tty, singleLine: true, destination: 2, name: 'converge' });
}
