import { packageConfig } from '../../tsup.config.base';

export default [
  // The page (below) is built beside it: the clean step keeps dist/ui. esbuild (a development
  // dependency, loaded only to build a missing page from source) must stay an import, not be bundled.
  packageConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }, { clean: ['!ui/**'], external: ['esbuild'] }),
  // The --ui page: one minified browser script (core's `browser` build inside), served from dist/ui/page.js.
  packageConfig(
    { 'ui/page': 'src/ui/page/main.ts' },
    {
      dts: false,
      clean: false,
      sourcemap: false,
      platform: 'browser',
      target: 'es2022',
      format: ['iife'],
      minify: true,
      noExternal: [/.*/],
      outExtension: () => ({ js: '.js' }),
      esbuildOptions(options) {
        options.conditions = ['browser'];
        options.legalComments = 'none';
      },
    },
  ),
];
