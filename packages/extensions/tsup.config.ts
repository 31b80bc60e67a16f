import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    "storage/index": "src/storage/index.ts",
    "crypto/index": "src/crypto/index.ts",
    "llm/index": "src/llm/index.ts"
  },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { customConditions: [] } },
  tsconfig: '../../tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
