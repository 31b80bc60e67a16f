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
// moduleResolution node10 ignores `exports`; typesVersions maps the subpaths' types for it.
const typesVersions = {};
for (const e of entries) {
  const key = e === '.' ? '.' : `./${e}`;
  const base = e === '.' ? 'index' : `${e}/index`;
  tsupEntry[base] = `src/${base}.ts`;
  exportsMap[key] = {
    '@converge/source': `./src/${base}.ts`,
    types: `./dist/${base}.d.ts`,
    default: `./dist/${base}.js`,
  };
  if (e !== '.') typesVersions[e] = [`./dist/${base}.d.ts`];
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
  ...(entries.includes('.') ? { main: './dist/index.js', module: './dist/index.js', types: './dist/index.d.ts' } : {}),
  ...(Object.keys(typesVersions).length ? { typesVersions: { '*': typesVersions } } : {}),
  // src ships too: the `@converge/source` condition and the source maps point at it.
  files: ['dist', 'src', 'README.md'],
  scripts: { build: 'tsup', ...(prev.scripts ?? {}) },
  ...Object.fromEntries(['bin', 'dependencies', 'peerDependencies', 'peerDependenciesMeta', 'devDependencies'].filter((k) => prev[k]).map((k) => [k, prev[k]])),
};
pkg.scripts.build = 'tsup';
writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
const tsupEntryText = Object.entries(tsupEntry)
  .map(([k, v]) => `${/^[a-z]+$/.test(k) ? k : `'${k}'`}: '${v}'`)
  .join(', ');
writeFileSync(join(dir, 'tsup.config.ts'), `import { packageConfig } from '../../tsup.config.base';\n\nexport default packageConfig({ ${tsupEntryText} });\n`);
