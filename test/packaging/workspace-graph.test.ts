// `pnpm -r build` builds the workspace in dependency order, which needs the dependency graph
// between workspace packages to be acyclic (dependencies, devDependencies and peerDependencies
// all count: a devDependency is built first too). A cycle (compliance <-> extensions once) makes
// the order arbitrary and the build fail on a clean clone.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './pack';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Workspace package name -> the workspace packages it depends on (any kind of dependency). */
function workspaceGraph(): Map<string, string[]> {
  const dirs = ['packages', 'examples'].flatMap((d) => readdirSync(join(repoRoot, d)).map((n) => join(repoRoot, d, n)));
  dirs.push(join(repoRoot, 'bench'));
  const manifests = dirs.filter((d) => existsSync(join(d, 'package.json'))).map((d) => JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as Manifest);
  const names = new Set(manifests.map((m) => m.name));
  return new Map(
    manifests.map((m) => {
      const deps = { ...m.dependencies, ...m.devDependencies, ...m.peerDependencies, ...m.optionalDependencies };
      return [m.name, Object.keys(deps).filter((d) => names.has(d))];
    }),
  );
}

/** Every cycle found by a depth-first walk, as `a -> b -> a`. */
function cyclesOf(graph: Map<string, string[]>): string[] {
  const done = new Set<string>();
  const path: string[] = [];
  const cycles: string[] = [];
  const visit = (n: string): void => {
    if (done.has(n)) return;
    const at = path.indexOf(n);
    if (at >= 0) {
      cycles.push([...path.slice(at), n].join(' -> '));
      return;
    }
    path.push(n);
    for (const d of graph.get(n) ?? []) visit(d);
    path.pop();
    done.add(n);
  };
  for (const n of graph.keys()) visit(n);
  return cycles;
}

describe('workspace dependency graph', () => {
  it('finds a cycle when there is one (the check can fail)', () => {
    const g = new Map([
      ['@x/a', ['@x/b']],
      ['@x/b', ['@x/c']],
      ['@x/c', ['@x/a']],
      ['@x/d', []],
    ]);
    expect(cyclesOf(g)).toEqual(['@x/a -> @x/b -> @x/c -> @x/a']);
  });

  it('has no cycle between workspace packages, so `pnpm -r build` has an order', () => {
    const graph = workspaceGraph();
    expect(graph.size).toBeGreaterThan(10);
    expect(cyclesOf(graph)).toEqual([]);
  });
});
