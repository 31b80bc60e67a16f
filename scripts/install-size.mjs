// Install-size check: packs @converge/core, @converge/network and @converge/runtime (and the
// workspace packages they depend on) with `pnpm pack`, installs the tarballs into a fresh
// directory with `npm i --omit=dev`, and prints the size of node_modules and its package count.
// The goal of issue 14 is at most 4 MB for `npm i @converge/core @converge/network @converge/runtime`.
//
//   node scripts/install-size.mjs [--no-build] [--check] [--max-mb 4] [--without <pkg>]... [--json]
//
// --no-build      use the dist/ already built (default: build the packed packages with tsup first)
// --check         exit 1 when the install is larger than --max-mb (default 4)
// --without <pkg> also measure an install where no packed package depends on <pkg>
//                 (e.g. --without @converge/observability simulates runtime without it)
// --json          print the figures as one JSON object
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const values = (name) => args.flatMap((a, i) => (a === name && args[i + 1] ? [args[i + 1]] : []));
const maxMb = Number(values('--max-mb')[0] ?? 4);
const pnpm = (process.env.PNPM ?? 'npx -y pnpm@10.34.8').split(' ');
const targets = ['core', 'network', 'runtime'];

function run(cmd, argv, cwd) {
  return execFileSync(cmd, argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

function manifest(dir) {
  return JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
}

/** Workspace folder of every @converge package, by name. */
function workspaceDirs() {
  const dirs = new Map();
  for (const d of readdirSync(join(root, 'packages'))) {
    if (existsSync(join(root, 'packages', d, 'package.json'))) dirs.set(manifest(d).name, d);
  }
  return dirs;
}

/** The targets and every workspace package they depend on (runtime dependencies only), dependencies first. */
function closure(dirs) {
  const out = new Set();
  const seen = new Set();
  const visit = (dir) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    for (const dep of Object.keys(manifest(dir).dependencies ?? {})) if (dirs.has(dep)) visit(dirs.get(dep));
    out.add(dir);
  };
  targets.forEach(visit);
  return [...out];
}

/** Total bytes of regular files under `dir` (symlinks not followed) and the packages in it. */
function measure(dir) {
  let bytes = 0;
  const packages = new Set();
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) bytes += st.size;
    }
  };
  const listPackages = (nm) => {
    if (!existsSync(nm)) return;
    for (const e of readdirSync(nm)) {
      if (e.startsWith('.')) continue;
      const names = e.startsWith('@') ? readdirSync(join(nm, e)).map((s) => `${e}/${s}`) : [e];
      for (const n of names) {
        const p = join(nm, n);
        if (!existsSync(join(p, 'package.json'))) continue;
        packages.add(p.slice(dir.length));
        listPackages(join(p, 'node_modules'));
      }
    }
  };
  walk(dir);
  listPackages(dir);
  return { bytes, packages: packages.size };
}

/** Largest installed packages (bytes of their own folder, nested node_modules excluded). */
function largest(nm, n = 8) {
  const sizes = [];
  const size = (d) => {
    let b = 0;
    for (const e of readdirSync(d)) {
      if (e === 'node_modules') continue;
      const p = join(d, e);
      const st = lstatSync(p);
      b += st.isDirectory() ? size(p) : st.isFile() ? st.size : 0;
    }
    return b;
  };
  for (const e of readdirSync(nm)) {
    if (e.startsWith('.')) continue;
    for (const name of e.startsWith('@') ? readdirSync(join(nm, e)).map((s) => `${e}/${s}`) : [e]) {
      if (existsSync(join(nm, name, 'package.json'))) sizes.push([name, size(join(nm, name))]);
    }
  }
  return sizes
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, bytes]) => ({ name, kb: Math.round(bytes / 1024) }));
}

/** Which installed packages depend (directly) on `names`, from npm's lockfile. */
function dependents(installDir, names) {
  const lock = JSON.parse(readFileSync(join(installDir, 'package-lock.json'), 'utf8'));
  const out = {};
  for (const [path, info] of Object.entries(lock.packages ?? {})) {
    for (const dep of Object.keys(info.dependencies ?? {})) {
      if (names.includes(dep)) (out[dep] ??= []).push(path.replace(/^.*node_modules\//, '') || '(root)');
    }
  }
  return out;
}

/** Rewrites a packed tarball's package.json without the dependencies in `drop`. */
function withoutDependencies(tarball, drop, work) {
  const dir = mkdtempSync(join(work, 'unpack-'));
  run('tar', ['xzf', tarball, '-C', dir]);
  const file = join(dir, 'package', 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  let changed = false;
  for (const d of drop)
    if (pkg.dependencies?.[d]) {
      delete pkg.dependencies[d];
      changed = true;
    }
  if (!changed) return tarball;
  writeFileSync(file, JSON.stringify(pkg, null, 2));
  const out = tarball.replace(/\.tgz$/, '-without.tgz');
  run('tar', ['czf', out, '-C', dir, 'package']);
  return out;
}

function install(work, label, tarballs) {
  const dir = mkdtempSync(join(work, `install-${label}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'install-size-probe', private: true }));
  run('npm', ['i', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...tarballs], dir);
  const nm = join(dir, 'node_modules');
  const { bytes, packages } = measure(nm);
  const diskKb = Number(run('du', ['-sk', nm]).split(/\s/)[0]);
  // Whether the installed packages load (a size figure of a broken install would mean nothing).
  let importable = true;
  try {
    run('node', ['--input-type=module', '-e', targets.map((t) => `await import('@converge/${t}');`).join(' ')], dir);
  } catch (err) {
    importable =
      String(err.stderr ?? err.message)
        .split('\n')
        .find((l) => l.includes('Error')) ?? 'failed';
  }
  return {
    label,
    importable,
    packages,
    bytes,
    mb: Math.round((bytes / 1e6) * 100) / 100,
    diskMb: Math.round((diskKb / 1024) * 100) / 100,
    largest: largest(nm),
    dependents: dependents(dir, ['pino', 'pino-pretty', 'prom-client', '@converge/observability']),
  };
}

const dirs = workspaceDirs();
const packed = closure(dirs);
const without = values('--without');
const work = mkdtempSync(join(tmpdir(), 'converge-install-size-'));
try {
  const tarballs = new Map();
  for (const dir of packed) {
    const cwd = join(root, 'packages', dir);
    if (!flag('--no-build') || !existsSync(join(cwd, 'dist'))) run(pnpm[0], [...pnpm.slice(1), 'run', 'build'], cwd);
    const out = run(pnpm[0], [...pnpm.slice(1), 'pack', '--pack-destination', work], cwd)
      .trim()
      .split('\n')
      .pop();
    const file = out.startsWith('/') ? out : join(work, out);
    if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`pnpm pack of ${dir} did not report its tarball (got ${out})`);
    tarballs.set(dir, file);
  }
  const results = [install(work, 'as-is', [...tarballs.values()])];
  if (without.length) {
    const kept = [...tarballs].filter(([dir]) => !without.includes(manifest(dir).name)).map(([, t]) => withoutDependencies(t, without, work));
    results.push(install(work, `without-${without.join('+').replace(/[@/]/g, '')}`, kept));
  }
  if (flag('--json')) console.log(JSON.stringify({ packed, maxMb, results }, null, 2));
  else {
    console.log(`packed: ${packed.map((d) => manifest(d).name).join(', ')}`);
    for (const r of results) {
      console.log(
        `\n[${r.label}] node_modules: ${r.mb} MB (${r.bytes} bytes of files; ${r.diskMb} MiB on disk, du), ${r.packages} packages (goal <= ${maxMb} MB)`,
      );
      console.log(`  loads (import of ${targets.join(', ')}): ${r.importable === true ? 'yes' : `no: ${r.importable}`}`);
      console.log(`  largest: ${r.largest.map((p) => `${p.name} ${p.kb} KB`).join(', ')}`);
      for (const [dep, by] of Object.entries(r.dependents)) console.log(`  ${dep} <- ${by.join(', ')}`);
    }
  }
  if (flag('--check') && results[0].mb > maxMb) {
    console.error(`install size ${results[0].mb} MB is over ${maxMb} MB`);
    process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
