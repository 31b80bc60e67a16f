import { defineConfig, type Options } from 'tsup';

/**
 * The one tsup configuration every package builds with: ESM and `.d.ts` only (no CommonJS
 * build, so there is one copy of each class at run time; Node >= 20.19 lets CommonJS callers
 * `require()` ESM). Source maps carry no `sourcesContent`: they point at `../src/...`, which
 * each package ships in its tarball (`files` lists `src`), so the source is not shipped twice.
 *
 * @param entry - output name (without extension) to source file, e.g. `{ index: 'src/index.ts' }`.
 * @param extra - options merged over the defaults (rarely needed).
 */
export function packageConfig(entry: Record<string, string>, extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    // The build resolves sibling packages through their built `dist` types, never their `src`.
    dts: { compilerOptions: { customConditions: [] } },
    tsconfig: '../../tsconfig.build.json',
    sourcemap: true,
    esbuildOptions(options) {
      options.sourcesContent = false;
    },
    clean: true,
    target: 'node20',
    ...extra,
  });
}
