import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    "store/index": "src/store/index.ts",
    "transport/index": "src/transport/index.ts",
    "task-queue/index": "src/task-queue/index.ts",
    "task-queue/child": "src/task-queue/child.ts"
  },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { customConditions: [] } },
  tsconfig: '../../tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
