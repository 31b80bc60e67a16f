import { configDefaults, defineConfig } from 'vitest/config';

// Tests import workspace packages through their "@converge/source" export condition, so they
// run against src/ without a build; CI builds as well and the examples run the built output.
export default defineConfig({
  resolve: { conditions: ['@converge/source', 'import', 'module', 'node', 'default'] },
  // No 'import' here: Vitest passes these to Node as --conditions, and a CommonJS dependency's
  // require() would then load a dual package's ESM wrapper (pg -> pg-pool breaks). Vite adds
  // 'import'/'require' by itself according to how a module is loaded.
  ssr: { resolve: { conditions: ['@converge/source', 'node', 'default'], externalConditions: ['@converge/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'test/**/*.test.ts'],
    // The plugin guide's example project runs outside the workspace, against packed tarballs
    // (test/packaging/plugin-guide.test.ts installs and runs it).
    exclude: [...configDefaults.exclude, 'test/packaging/plugin-guide/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Checks once whether ../shared/interop/vectors.json (or $CONVERGE_VECTORS) is there and
    // prints one notice when it is not; the suites that need it skip (or fail when CI is set).
    // Likewise for Chromium (test/support/chromium.ts): the browser suites skip without it (fail in CI).
    globalSetup: ['packages/core/test/vectors-setup.ts', 'test/support/chromium-setup.ts'],
    reporters: ['default'],
  },
});
