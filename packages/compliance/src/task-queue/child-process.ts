// A child Node process that prints one JSON line once it holds what a crash test needs, then
// waits to be SIGKILLed (the compliance SIGKILL test; adapters' own crash tests use it too).
import { spawn } from 'node:child_process';

/** A started child: the JSON value of its first stdout line, and a kill that waits for its exit. */
export interface HoldingChild<T> {
  value: T;
  /** SIGKILLs the child and resolves once it exited. */
  kill: () => Promise<void>;
}

/**
 * Runs `node <args>` and resolves with the JSON of its first stdout line. Rejects (with its
 * stderr) when it exits first or prints nothing within `timeoutMs` (default 30 s; it is then
 * killed).
 */
export function startHoldingChild<T>(args: string[], timeoutMs = 30_000): Promise<HoldingChild<T>> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child printed nothing in ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve({
        value: JSON.parse(out.slice(0, nl)) as T,
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code} before printing its line: ${err}`));
    });
  });
}
