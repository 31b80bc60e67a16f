// Writes a package's package.json exports map and tsup config from its entry list.
// Usage: node scripts/gen-package.mjs <dir> <name> <description> <entry,...>
// Entries: "." or subpath names; "." maps to src/index.ts, "x" to src/x/index.ts.
import { writeFileSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, name, description, entriesArg] = process.argv.slice(2);
const entries = entriesArg.split(',');
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'test'), { recursive: true });

const exportsMap = {};
const tsupEntry = {};
for (const e of entries) {
  const key = e === '.' ? '.' : `./${e}`;
  const base = e === '.' ? 'index' : `${e}/index`;
  tsupEntry[base] = `src/${base}.ts`;
  exportsMap[key] = {
    '@converge/source': `./src/${base}.ts`,
    import: { types: `./dist/${base}.d.ts`, default: `./dist/${base}.js` },
    require: { types: `./dist/${base}.d.cts`, default: `./dist/${base}.cjs` },
  };
}
exportsMap['./package.json'] = './package.json';

const pkgPath = join(dir, 'package.json');
const prev = existsSync(pkgPath) ? JSON.parse(readFileSync(pkgPath, 'utf8')) : {};
const pkg = {
  name,
  version: prev.version ?? '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.19' },
  exports: exportsMap,
  ...(entries.includes('.') ? { main: './dist/index.cjs', module: './dist/index.js', types: './dist/index.d.ts' } : {}),
  files: ['dist', 'README.md'],
  scripts: { build: 'tsup', ...(prev.scripts ?? {}) },
  ...Object.fromEntries(
    ['bin', 'dependencies', 'peerDependencies', 'peerDependenciesMeta', 'devDependencies'].filter((k) => prev[k]).map((k) => [k, prev[k]]),
  ),
};
pkg.scripts.build = 'tsup';
writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(
  join(dir, 'tsup.config.ts'),
  `import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ${JSON.stringify(tsupEntry, null, 2).replace(/\n/g, '\n  ')},
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { customConditions: [] } },
  tsconfig: '../../tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
`,
);
