import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    "index": "src/index.ts",
    "task-queue/index": "src/task-queue/index.ts"
  },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { customConditions: [] } },
  tsconfig: '../../tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
