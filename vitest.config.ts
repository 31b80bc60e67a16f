import { defineConfig } from 'vitest/config';

// Tests import workspace packages through their "@converge/source" export condition, so they
// run against src/ without a build; CI builds as well and the examples run the built output.
export default defineConfig({
  resolve: { conditions: ['@converge/source', 'import', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['@converge/source', 'import', 'node', 'default'], externalConditions: ['@converge/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
