import { packageConfig } from '../../tsup.config.base';

// Two builds: dist/index.js for Node (node:crypto, Buffer) and dist/browser/index.js for the
// `browser` export condition. Each resolves `#platform` (package.json `imports`) by its own
// platform's condition and inlines that module; the types are shared (dist/index.d.ts).
export default [
  packageConfig({ index: 'src/index.ts' }, { clean: ['!browser/**'] }),
  packageConfig({ index: 'src/index.ts' }, { outDir: 'dist/browser', platform: 'browser', target: 'es2022', dts: false }),
];
