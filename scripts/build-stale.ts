/**
 * `node --import tsx scripts/build-stale.ts [package...]`: builds the named workspace packages
 * (default: all of packages/*) and the workspace packages they depend on, in dependency order,
 * but only those whose dist/ is older than their inputs. `pnpm start` and `pnpm converge` run
 * it for @converge/cli, so a second run builds nothing and starts at once.
 *
 * A package's inputs are its src/ tree (files and directories, so a deleted file counts as a
 * change), its package.json and tsup.config.ts, and the shared tsconfig.build.json and
 * tsconfig.base.json. A dependency's rebuild does not make its dependents stale: tsup keeps
 * workspace packages external, so a dependent's dist/ does not contain their code — except for
 * a package that bundles some of them into its output (the CLI's `--ui` page bundles core and
 * network): it lists them in its package.json as `"converge": { "bundles": [...] }`, and their
 * inputs count as its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One workspace package, as the stale check sees it. */
export interface WorkspacePackage {
  /** Package name (`@converge/core`). */
  name: string;
  /** Absolute directory. */
  dir: string;
  /** Workspace packages it needs at run time (dependencies, peer and optional dependencies). */
  deps: string[];
  /** Its `build` script, or undefined when it has none. */
  build: string | undefined;
  /** Workspace packages whose code its output bundles (`"converge": { "bundles": [...] }`). */
  bundles: string[];
}

/** Root files every package's build reads. */
const SHARED_INPUTS = ['tsconfig.build.json', 'tsconfig.base.json'];
/** Per-package files besides src/ that change the build output. */
const OWN_INPUTS = ['package.json', 'tsup.config.ts'];

/** Reads packages/*\/package.json under `root`. */
export function readWorkspace(root: string): Map<string, WorkspacePackage> {
  const byName = new Map<string, WorkspacePackage>();
  const manifests: { dir: string; json: Record<string, Record<string, string> | string | undefined> }[] = [];
  for (const entry of readdirSync(join(root, 'packages'), { withFileTypes: true })) {
    const dir = join(root, 'packages', entry.name);
    if (!entry.isDirectory() || !existsSync(join(dir, 'package.json'))) continue;
    manifests.push({ dir, json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as (typeof manifests)[number]['json'] });
  }
  const names = new Set(manifests.map((m) => m.json.name as string));
  for (const { dir, json } of manifests) {
    const declared = ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.keys((json[field] as Record<string, string> | undefined) ?? {}),
    );
    const scripts = json.scripts as Record<string, string> | undefined;
    const bundles = ((json.converge as unknown as { bundles?: unknown } | undefined)?.bundles ?? []) as unknown[];
    byName.set(json.name as string, {
      name: json.name as string,
      dir,
      deps: [...new Set(declared.filter((d) => names.has(d)))],
      build: scripts?.build,
      bundles: bundles.filter((b): b is string => typeof b === 'string' && names.has(b)),
    });
  }
  return byName;
}

/** `targets` and everything they depend on, dependencies first; throws on an unknown name or a cycle. */
export function buildOrder(workspace: Map<string, WorkspacePackage>, targets: string[]): WorkspacePackage[] {
  const order: WorkspacePackage[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    const pkg = workspace.get(name);
    if (!pkg) throw new Error(`build-stale: no workspace package ${name}`);
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`build-stale: dependency cycle ${[...path, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const dep of pkg.deps) visit(dep, [...path, name]);
    state.set(name, 'done');
    order.push(pkg);
  };
  for (const t of targets) visit(t, []);
  return order;
}

/** Newest mtime (ms) of a path and, for a directory, everything under it; 0 when absent. */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, e)));
  return newest;
}

/** Oldest mtime (ms) of the files under `dir`; undefined when there are none. */
function oldestFileMtime(dir: string): number | undefined {
  if (!existsSync(dir)) return undefined;
  let oldest: number | undefined;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const m = e.isDirectory() ? oldestFileMtime(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs;
    if (m !== undefined) oldest = oldest === undefined ? m : Math.min(oldest, m);
  }
  return oldest;
}

/**
 * Whether `pkg` needs a build: no dist/ output, or an input newer than its oldest output file
 * (with `workspace`, the inputs of the packages it bundles count too).
 */
export function isStale(root: string, pkg: WorkspacePackage, workspace?: Map<string, WorkspacePackage>): boolean {
  const built = oldestFileMtime(join(pkg.dir, 'dist'));
  if (built === undefined) return true;
  const dirs = [pkg.dir, ...pkg.bundles.map((b) => workspace?.get(b)?.dir).filter((d): d is string => d !== undefined)];
  const inputs = [...dirs.flatMap((d) => [join(d, 'src'), ...OWN_INPUTS.map((f) => join(d, f))]), ...SHARED_INPUTS.map((f) => join(root, f))];
  return Math.max(...inputs.map(newestMtime)) > built;
}

/** The packages of `buildOrder(targets)` that are stale (and have a build script), in that order. */
export function stalePackages(root: string, targets: string[]): WorkspacePackage[] {
  const workspace = readWorkspace(root);
  return buildOrder(workspace, targets).filter((p) => p.build !== undefined && isStale(root, p, workspace));
}

/**
 * Runs each stale package's build script as pnpm would (its and the root's node_modules/.bin on
 * PATH). The builds' output goes to stderr, so that `pnpm -s converge run --json` keeps stdout
 * for the summary.
 */
export function buildStale(root: string, targets: string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): WorkspacePackage[] {
  const stale = stalePackages(root, targets);
  if (stale.length === 0) log('build-stale: every package is up to date');
  for (const pkg of stale) {
    log(`build-stale: building ${pkg.name}`);
    const bins = [join(pkg.dir, 'node_modules', '.bin'), join(root, 'node_modules', '.bin')];
    const env = { ...process.env, PATH: [...bins, process.env.PATH ?? ''].join(delimiter) };
    const run = spawnSync(pkg.build!, { cwd: pkg.dir, env, shell: true, stdio: ['ignore', 2, 2] });
    if (run.status !== 0) throw new Error(`build-stale: ${pkg.name} build failed (exit ${run.status ?? run.signal})`);
  }
  return stale;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const targets = process.argv.slice(2);
  try {
    buildStale(root, targets.length > 0 ? targets : [...readWorkspace(root).keys()]);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
