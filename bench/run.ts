/**
 * `pnpm bench [--json] [filter...]`: runs every suite in bench/suites (or those whose file
 * name contains a filter) and prints a table, or one JSON object per line with `--json`.
 * Progress and suite failures go to stderr; stdout holds only the table or the JSON lines.
 * pnpm itself prints a `> converge-monorepo@ bench …` banner on stdout before any script, so
 * the documented form for machine-read output is `pnpm -s bench --json` (-s: pnpm silent).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import type { BenchResult, BenchSuite } from './harness.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const filters = args.filter((a) => !a.startsWith('--'));
const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const results: BenchResult[] = [];
const scale = Number(process.env.BENCH_SCALE ?? '1');
let failed = 0;

for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: BenchSuite };
  process.stderr.write(`# ${file}\n`);
  try {
    await mod.default({
      scale,
      report: (r) => {
        results.push({ ...r });
        process.stderr.write(`  ${r.name}: ${format(r.value)} ${r.unit}\n`);
      },
      log: (m) => process.stderr.write(`  ${m}\n`),
    });
  } catch (err) {
    failed++;
    process.stderr.write(`  suite ${file} failed: ${(err as Error).stack ?? String(err)}\n`);
  }
}

const byName = new Map(results.map((r) => [r.name, r]));
for (const r of results) {
  if (!r.baseline) continue;
  const base = byName.get(r.baseline);
  if (base && base.value > 0) r.ratio = Number((r.value / base.value).toFixed(3));
}

if (json) {
  for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
} else {
  const rows = results.map((r) => [r.name, format(r.value), r.unit, r.baseline ?? '', r.ratio?.toString() ?? '']);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['name', 'value', 'unit', 'baseline', 'ratio'][i]!.length));
  const line = (row: string[]) => row.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(line(['name', 'value', 'unit', 'baseline', 'ratio']));
  for (const row of rows) console.log(line(row));
}
process.exitCode = failed > 0 ? 1 : 0;

function format(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}
