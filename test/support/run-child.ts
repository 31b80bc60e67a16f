// Runs a TypeScript child process the way the tests run their own code (tsx, the workspace
// sources) and reads the JSON it prints: for the tests that race several OS processes.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Runs `node --import tsx --conditions=@converge/source <script> ...args` from the repository
 * root and resolves the JSON it wrote to stdout; rejects with `<label> exited <code>: <stderr>`
 * when it exits non-zero (or cannot be started).
 */
export function runChildJson<T>(script: string, args: string[], label: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@converge/source', script, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${label} exited ${code}: ${err}`))));
  });
}
