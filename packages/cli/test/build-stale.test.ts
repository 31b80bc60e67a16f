// scripts/build-stale.ts (what `pnpm start` and `pnpm converge` build with): dependency order,
// and a package counts as stale exactly when its dist/ is missing or older than an input.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildOrder, buildStale, isStale, readWorkspace, stalePackages } from '../../../scripts/build-stale.js';

let root = '';
const OLD = new Date('2026-01-01T00:00:00Z');
const NEW = new Date('2026-02-01T00:00:00Z');

/** Writes a file and sets its mtime (and its directory's) to `when`. */
function put(path: string, text: string, when = OLD): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  utimesSync(path, when, when);
  utimesSync(dirname(path), when, when);
}

/** A workspace package whose build script appends its name to root/builds.log and writes dist/. */
function pkg(name: string, deps: Record<string, string> = {}, field = 'dependencies', devDeps: Record<string, string> = {}): void {
  const dir = join(root, 'packages', name);
  const build = `node -e "require('fs').appendFileSync('../../builds.log','${name}\\\\n');require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.js','')"`;
  put(join(dir, 'package.json'), JSON.stringify({ name, scripts: { build }, [field]: deps, devDependencies: devDeps }));
  put(join(dir, 'src', 'index.ts'), 'export {};');
}

/** Marks a package as built after its inputs (dist/ newer than everything). */
function built(name: string): void {
  put(join(root, 'packages', name, 'dist', 'index.js'), '', NEW);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'build-stale-'));
  put(join(root, 'tsconfig.build.json'), '{}');
  put(join(root, 'tsconfig.base.json'), '{}');
  pkg('a');
  pkg('b', { a: 'workspace:^', zod: '^4' });
  pkg('c', { b: 'workspace:^' }, 'peerDependencies', { d: 'workspace:^' });
  pkg('d', { c: 'workspace:^' }); // d -> c only as c's devDependency: no cycle
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('build order', () => {
  it('puts dependencies (regular and peer) first, ignores devDependencies and non-workspace ones', () => {
    const ws = readWorkspace(root);
    expect(ws.get('b')!.deps).toEqual(['a']);
    expect(buildOrder(ws, ['d']).map((p) => p.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(buildOrder(ws, ['b']).map((p) => p.name)).toEqual(['a', 'b']);
  });

  it('refuses a cycle and an unknown package by name', () => {
    pkg('a', { c: 'workspace:^' });
    expect(() => buildOrder(readWorkspace(root), ['c'])).toThrow(/cycle c -> b -> a -> c/);
    expect(() => buildOrder(readWorkspace(root), ['nope'])).toThrow(/no workspace package nope/);
  });
});

describe('stale check', () => {
  const stale = (name: string) => isStale(root, readWorkspace(root).get(name)!);

  it('a package without dist/ is stale; one built after its inputs is not', () => {
    expect(stale('a')).toBe(true);
    built('a');
    expect(stale('a')).toBe(false);
  });

  it('a changed source file, package.json, tsup.config.ts or shared tsconfig makes it stale', () => {
    const dir = join(root, 'packages', 'a');
    let t = Date.now() + 3_600_000; // after the directories' own (real) mtimes
    for (const input of [join(dir, 'src', 'deep', 'x.ts'), join(dir, 'package.json'), join(dir, 'tsup.config.ts'), join(root, 'tsconfig.base.json')]) {
      put(join(dir, 'dist', 'index.js'), '', new Date((t += 1000)));
      expect(stale('a')).toBe(false);
      put(input, input.endsWith('package.json') ? readFileSync(input, 'utf8') : '{}', new Date((t += 1000)));
      expect(stale('a'), input).toBe(true);
    }
  });

  it('a deleted source file makes it stale (its directory changed)', () => {
    put(join(root, 'packages', 'a', 'src', 'gone.ts'), '');
    built('a');
    unlinkSync(join(root, 'packages', 'a', 'src', 'gone.ts'));
    utimesSync(join(root, 'packages', 'a', 'src'), new Date('2026-03-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z'));
    expect(stale('a')).toBe(true);
  });

  it('an output file older than the inputs (a build cut short) makes it stale', () => {
    built('a');
    put(join(root, 'packages', 'a', 'dist', 'index.d.ts'), '', new Date('2025-12-01T00:00:00Z'));
    expect(stale('a')).toBe(true);
  });

  it('a rebuilt dependency does not make its dependents stale', () => {
    built('a');
    built('b');
    put(join(root, 'packages', 'a', 'src', 'index.ts'), 'export const x = 1;', new Date('2026-03-01T00:00:00Z'));
    expect(stalePackages(root, ['b']).map((p) => p.name)).toEqual(['a']);
  });

  it('a package that bundles a dependency ("converge": { "bundles" }) is stale when that dependency changed', () => {
    const dir = join(root, 'packages', 'b');
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    put(join(dir, 'package.json'), JSON.stringify({ ...manifest, converge: { bundles: ['a', 'not-in-workspace'] } }));
    expect(readWorkspace(root).get('b')!.bundles).toEqual(['a']);
    built('a');
    built('b');
    expect(stalePackages(root, ['b'])).toEqual([]);
    put(join(root, 'packages', 'a', 'src', 'index.ts'), 'export const x = 1;', new Date('2026-03-01T00:00:00Z'));
    expect(stalePackages(root, ['b']).map((p) => p.name)).toEqual(['a', 'b']);
  });
});

describe('buildStale', () => {
  it('builds every package once on a fresh tree, in order, then nothing; then only what changed', () => {
    const log = join(root, 'builds.log');
    const lines: string[] = [];
    expect(buildStale(root, ['c'], (l) => lines.push(l)).map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(readFileSync(log, 'utf8')).toBe('a\nb\nc\n');
    expect(buildStale(root, ['c'], (l) => lines.push(l))).toEqual([]);
    expect(lines.at(-1)).toMatch(/up to date/);
    put(join(root, 'packages', 'b', 'src', 'index.ts'), 'export const y = 2;', new Date(Date.now() + 60_000));
    expect(buildStale(root, ['c'], () => {}).map((p) => p.name)).toEqual(['b']);
    expect(readFileSync(log, 'utf8')).toBe('a\nb\nc\nb\n');
  });

  it('stops at a failing build, naming the package', () => {
    const dir = join(root, 'packages', 'a');
    put(join(dir, 'package.json'), JSON.stringify({ name: 'a', scripts: { build: 'node -e "process.exit(3)"' } }));
    expect(() => buildStale(root, ['b'], () => {})).toThrow(/a build failed \(exit 3\)/);
  });
});
