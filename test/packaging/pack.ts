// Helpers for the packaging tests: where the packages are, what a tarball holds, and whether
// the built output the tarball needs exists.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const repoRoot = new URL('../..', import.meta.url).pathname;

/** A workspace package: its folder and package.json. */
export interface WorkspacePackage {
  dir: string;
  manifest: {
    name: string;
    exports?: unknown;
    imports?: unknown;
    main?: string;
    module?: string;
    types?: string;
    typesVersions?: unknown;
    bin?: unknown;
    files?: string[];
  };
}

/** Every package under packages/. */
export function workspacePackages(): WorkspacePackage[] {
  return readdirSync(join(repoRoot, 'packages'))
    .map((name) => join(repoRoot, 'packages', name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as WorkspacePackage['manifest'] }));
}

/** True when every package has a `dist` folder (the packaging tests need a build). */
export function isBuilt(): boolean {
  return workspacePackages().every((p) => existsSync(join(p.dir, 'dist')));
}

/** The paths `npm pack` would put in the package's tarball (no scripts run). */
export function tarballFiles(dir: string): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [report] = JSON.parse(out) as { files: { path: string }[] }[];
  return new Set(report.files.map((f) => f.path));
}

/** Every string leaf of an exports / typesVersions / bin value: the paths it points at. */
export function targets(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) targets(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) targets(v, out);
  return out;
}

/**
 * Why the npm registry cannot serve the packed-install tests (`undefined` when it can): asks it
 * for `probe` (a package path such as `/vitest`) with a 10 s timeout.
 */
export async function registryReachable(probe: string): Promise<string | undefined> {
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const res = await fetch(new URL(probe, registry), { signal: AbortSignal.timeout(10_000) });
    return res.ok ? undefined : `the npm registry (${registry}) answered ${res.status}`;
  } catch (err) {
    return `the npm registry (${registry}) is unreachable: ${(err as Error).message}`;
  }
}
