#!/usr/bin/env node
/**
 * The `converge` command. `converge run [options]` runs the main job; `--help` lists every
 * option. Exit codes: 0 success, 1 tasks lost/failed/wrong or a runtime error, 2 invalid
 * configuration, 130/143 interrupted by SIGINT/SIGTERM (0 with `--duration`, where a signal is
 * the normal way to end).
 */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`converge: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
