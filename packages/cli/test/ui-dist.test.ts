// The built CLI serves the page built with the package (dist/ui/page.js, in the tarball), with
// no bundler at run time. Needs a build (`pnpm build`; `pnpm test` builds first): skipped with a
// notice without one, failing in CI.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const bin = `${pkg}dist/bin.js`;
const page = `${pkg}dist/ui/page.js`;
const built = existsSync(bin) && existsSync(page);
if (!built) console.warn('ui-dist: packages/cli/dist is not built; skipped (run `pnpm build`; CI=true makes this a failure)');

describe.skipIf(!built && process.env.CI !== 'true')('the built CLI and its tarball', () => {
  it('the tarball holds dist/ui/page.js (and its sources)', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg, encoding: 'utf8' });
    const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    expect(files.has('dist/ui/page.js')).toBe(true);
    expect(files.has('src/ui/page/main.ts')).toBe(true);
  });

  it('node dist/bin.js run --ui 0 serves dist/ui/page.js as /app.js, then ends with --ui-linger', async () => {
    const child = spawn(process.execPath, [bin, 'run', '--ui', '0', '--ui-linger', '3', '--tasks', '20'], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /^ui: (\S+)$/m.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before serving:\n${stderr}`)));
    });
    const js = new Uint8Array(await (await fetch(`${url}app.js`)).arrayBuffer());
    expect(Buffer.from(js).equals(readFileSync(page))).toBe(true);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
  });
});
