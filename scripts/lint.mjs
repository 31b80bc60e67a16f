// Project lint: what ESLint cannot express: the package layout (README, test/, manifest
// fields) and TSDoc on every exported declaration. Source rules (no eval / new Function, file
// length) are ESLint rules in eslint.config.js. Exits 1 with one line per problem.
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const problems = [];
const root = new URL('..', import.meta.url).pathname;

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

for (const name of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', name);
  const pkgFile = join(dir, 'package.json');
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  const where = `packages/${name}`;
  if (!existsSync(join(dir, 'README.md'))) problems.push(`${where}: no README.md`);
  if (!existsSync(join(dir, 'test'))) problems.push(`${where}: no test/`);
  if (pkg.sideEffects !== false) problems.push(`${where}: sideEffects must be false`);
  if (pkg.type !== 'module') problems.push(`${where}: type must be module`);
  if (pkg.engines?.node !== '>=20.19') problems.push(`${where}: engines.node must be >=20.19`);
  if (!pkg.exports || typeof pkg.exports !== 'object') problems.push(`${where}: no exports map`);
  for (const file of walk(join(dir, 'src'))) {
    const rel = file.slice(root.length);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    // Every exported declaration carries TSDoc (a /** … */ block ending right above it).
    lines.forEach((line, i) => {
      if (!/^export (declare )?(abstract )?(async )?(function|class|interface|type|const|enum) /.test(line) || /^export type {/.test(line)) return;
      let j = i - 1;
      while (j >= 0 && lines[j].trim().startsWith('//')) j--;
      if (j < 0 || !lines[j].trim().endsWith('*/')) problems.push(`${rel}:${i + 1}: exported declaration without TSDoc`);
    });
  }
}

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`${problems.length} lint problem(s)`);
  process.exit(1);
}
console.log('lint: no problems');
