// The store contract across OS processes: compareAndSet stays atomic between two processes, and
// a write made in another process reaches a `watch` listener here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@converge/core';
import { eventually } from './eventually.js';

/** A child-process store: `module` exports `createStore(options)`. */
export interface ChildStoreFactory {
  /** Absolute path (or file URL) of an ES module exporting `createStore(options: unknown): Store | Promise<Store>`. */
  module: string;
  /** JSON-serializable options for that function, naming the fixture's namespace. */
  options: unknown;
  /** Node flags of the child (default: `--import tsx --conditions=@converge/source`, as the tests run from source). */
  execArgv?: string[];
}

/** One namespace (table, key prefix, directory) shared by this process and the children. */
export interface StoreCrossProcessFixture<S extends Store = Store> {
  /** A new client of the namespace in this process; the suite starts and stops it. */
  open(): S;
  /** How the children reach the same namespace. */
  child: ChildStoreFactory;
  /** Removes the namespace (after every test of the suite). */
  teardown?(): Promise<void>;
}

/** Options of `storeCrossProcessTests`. */
export interface StoreCrossProcessOptions<S extends Store = Store> {
  /** Suite title, e.g. `'PostgresStore'`. */
  name: string;
  /** Makes the namespace, ready for two children to race on it (create tables here). */
  setup(): Promise<StoreCrossProcessFixture<S>>;
  /** compareAndSet increments each of the two children makes (default 200). */
  increments?: number;
  /** How a remote write reaches this process, for the test title (e.g. `'LISTEN/NOTIFY'`). */
  notifiedBy?: string;
  /** Extra checks once the remote write was seen (e.g. a notification counter); skipped when the store has no `watch`. */
  afterRemoteWrite?(store: S): void | Promise<void>;
}

/** The child entry next to this file (`.ts` when run from source, `.js` once built). */
function childEntry(): string {
  const ts = fileURLToPath(new URL('./child.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('./child.js', import.meta.url));
}

/** Child processes end by themselves; this only bounds a hung one. */
const CHILD_TIMEOUT_MS = 60_000;

/** Runs the child with `args`; resolves with its last JSON line, rejects on a non-zero exit or a hang. */
function runChild(factory: ChildStoreFactory, args: string[]): Promise<Record<string, number>> {
  const execArgv = factory.execArgv ?? ['--import', 'tsx', '--conditions=@converge/source'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, childEntry(), factory.module, JSON.stringify(factory.options), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>);
      else reject(new Error(`child exited with ${code}: ${err}`));
    });
  });
}

/**
 * Registers a vitest suite that checks a store shared by several OS processes: two child
 * processes doing `increments` compareAndSet increments each on one key end at exactly twice
 * that, and (when the store has `watch`) a write in a child wakes a listener here, with the
 * child's revision.
 */
export function storeCrossProcessTests<S extends Store = Store>(options: StoreCrossProcessOptions<S>): void {
  const n = options.increments ?? 200;
  describe(`${options.name} across processes`, () => {
    let fixture: StoreCrossProcessFixture<S>;
    beforeAll(async () => {
      fixture = await options.setup();
    });
    afterAll(async () => {
      await fixture?.teardown?.();
    });

    /** Runs `fn` with a started client of the namespace, stopped afterwards. */
    async function withStore(fn: (s: S) => Promise<void>): Promise<void> {
      const s = fixture.open();
      await s.start?.();
      try {
        await fn(s);
      } finally {
        await s.stop?.();
      }
    }

    it(`two processes doing ${n} compareAndSet increments each on one key end at exactly ${2 * n}`, async () => {
      const cas = ['cas', 'counter', String(n)];
      const results = await Promise.all([runChild(fixture.child, cas), runChild(fixture.child, cas)]);
      expect(results.map((r) => r.done)).toEqual([n, n]);
      await withStore(async (s) => {
        expect(await s.get('counter')).toBe(2 * n);
      });
    });

    const how = options.notifiedBy ? ` (${options.notifiedBy})` : '';
    it(`a write in another process wakes a watch listener here${how}`, async (t) => {
      await withStore(async (s) => {
        if (!s.watch) return t.skip();
        const seen: string[] = [];
        s.watch('jobs:', (k) => seen.push(k));
        const { revision } = await runChild(fixture.child, ['put', 'jobs:42']);
        expect(await eventually(() => seen.length > 0)).toBe(true);
        expect(seen).toEqual(['jobs:42']);
        expect((await s.getEntry('jobs:42'))?.revision).toBe(revision);
        await options.afterRemoteWrite?.(s);
      });
    });
  });
}
