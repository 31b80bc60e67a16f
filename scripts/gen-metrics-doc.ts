// Regenerates the metrics table of docs/METRICS.md from a registry in which every component
// registered its metrics (packages/cli/src/telemetry/metrics-catalog.ts).
//   node --import tsx --conditions=@converge/source scripts/gen-metrics-doc.ts          (writes the file)
//   node --import tsx --conditions=@converge/source scripts/gen-metrics-doc.ts --check  (exit 1 when it differs)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { metricsDocTable, replaceMetricsTable } from '../packages/cli/src/telemetry/metrics-catalog.js';

const path = fileURLToPath(new URL('../docs/METRICS.md', import.meta.url));
const doc = readFileSync(path, 'utf8');
const next = replaceMetricsTable(doc, await metricsDocTable());
if (process.argv.includes('--check')) {
  if (next !== doc) {
    process.stderr.write('docs/METRICS.md differs from the registry: run scripts/gen-metrics-doc.ts\n');
    process.exit(1);
  }
} else if (next !== doc) {
  writeFileSync(path, next);
  process.stdout.write('docs/METRICS.md: metrics table regenerated\n');
}
process.exit(0);
