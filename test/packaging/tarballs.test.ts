// Each package's tarball holds what its manifest points at: every `exports` and `imports` target (the
// `@converge/source` condition too, so it never points at a missing file), main/module/types,
// typesVersions and bin; no CommonJS build; no source map that embeds the source again.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBuilt, tarballFiles, targets, workspacePackages } from './pack';

const built = isBuilt();
if (!built) console.warn('packaging tests skipped: run `pnpm build` first (the tarballs hold dist/)');

describe.skipIf(!built && process.env.CI !== 'true')('package tarballs', () => {
  for (const { dir, manifest } of workspacePackages()) {
    it(`${manifest.name} ships every file its manifest points at, ESM only, maps without sources`, () => {
      const files = tarballFiles(dir);
      const { exports, imports, main, module, types, typesVersions, bin } = manifest;
      // `imports` too: under `@converge/source`, src/ resolves `#platform` to src/ files.
      const missing = targets([exports, imports, main, module, types, typesVersions, bin])
        .map((t) => t.replace(/^\.\//, ''))
        .filter((t) => !files.has(t));
      expect(missing).toEqual([]);
      expect(targets(exports).some((t) => t.startsWith('./src/'))).toBe(true);
      expect([...files].filter((f) => /\.(cjs|d\.cts)$/.test(f))).toEqual([]);
      const maps = [...files].filter((f) => f.endsWith('.js.map'));
      expect(maps.length).toBeGreaterThan(0);
      for (const map of maps) {
        const parsed = JSON.parse(readFileSync(join(dir, map), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
        expect(parsed.sourcesContent, map).toBeUndefined();
        // Every source a map names is shipped, so a debugger finds it.
        const base = map.split('/').slice(0, -1).join('/');
        for (const src of parsed.sources) expect(files.has(join(base, src)), `${map} -> ${src}`).toBe(true);
      }
    });
  }
});
