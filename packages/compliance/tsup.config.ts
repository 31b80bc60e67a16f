import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    "store/index": "src/store/index.ts",
    "transport/index": "src/transport/index.ts"
  },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { customConditions: [] } },
  tsconfig: '../../tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
