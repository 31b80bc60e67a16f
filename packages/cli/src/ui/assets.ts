import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bytesToHex } from '@converge/core';

/** The page's script. */
export interface PageAssets {
  js: Uint8Array;
  /** Where it came from: the package build (`dist/ui/page.js`) or built now from source. */
  source: 'dist' | 'built';
}

/**
 * The page's bundle: `ui/page.js` next to the built CLI (tsup builds it with the package; it
 * ships in the tarball), or, in a source checkout without a build, bundled now from
 * `src/ui/page/main.ts` with esbuild (a development dependency) using the `browser` condition.
 * Cached after the first call.
 */
export function pageAssetsLoader(): () => Promise<PageAssets> {
  let cached: Promise<PageAssets> | undefined;
  return () =>
    (cached ??= loadPageAssets().catch((err: unknown) => {
      cached = undefined;
      throw err;
    }));
}

async function loadPageAssets(): Promise<PageAssets> {
  // Built: this module is bundled into dist/*.js, so the page sits at dist/ui/page.js.
  const built = new URL('./ui/page.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) {
    try {
      return { js: await readFile(built), source: 'dist' };
    } catch {
      // fall through to building it (a dist without the page: an old build)
    }
  }
  return { js: await bundlePage(), source: 'built' };
}

/** Bundles the page from source with esbuild (browser platform, `browser` export condition, minified). */
export async function bundlePage(options: { minify?: boolean } = {}): Promise<Uint8Array> {
  const entry = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './page/main.ts' : '../src/ui/page/main.ts', import.meta.url));
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (err) {
    throw new Error('the ui page is not built (dist/ui/page.js is missing) and esbuild is not installed to build it', { cause: err });
  }
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    conditions: ['@converge/source', 'browser'],
    legalComments: 'none',
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.contents;
}

/** The page's HTML; the relay's public key is in it, so the page can verify the relay's messages. */
export function pageHtml(relayKey: Uint8Array): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>converge — live network</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="converge-relay-key" content="${bytesToHex(relayKey)}">
<style>${PAGE_CSS}</style>
<script src="/app.js" defer></script></head>
<body>
<header><h1>converge</h1><span id="status" data-testid="status">connecting…</span><span id="me"></span></header>
<section class="counters">
  <div><b data-testid="agents-count" id="agents-count">0</b><span>agents</span></div>
  <div><b data-testid="tasks-completed" id="tasks-completed">0</b><span>completed</span></div>
  <div><b data-testid="tasks-total" id="tasks-total">0</b><span>tasks</span></div>
  <div><b data-testid="messages-verified" id="messages-verified">0</b><span>messages verified</span></div>
  <div class="bad"><b data-testid="messages-rejected" id="messages-rejected">0</b><span>messages rejected</span></div>
</section>
<main>
  <section class="card wide"><h2>Agents <small>who talks to whom (verified messages)</small></h2><svg id="graph" viewBox="0 0 600 360"></svg></section>
  <section class="card"><h2>Tasks</h2><div id="task-bar" class="bar"></div><div id="task-legend" class="legend"></div><div id="task-lane" class="lane"></div></section>
  <section class="card"><h2>Latency <small>submit → done</small></h2><svg id="latency" viewBox="0 0 360 160"></svg><div id="latency-text" class="muted"></div></section>
  <section class="card"><h2>Pools</h2><div id="pools"></div></section>
  <section class="card"><h2>Auctions <small>bids and clearing prices</small></h2><table id="auctions"><thead><tr><th>task</th><th>bids</th><th>winner</th><th>price</th></tr></thead><tbody></tbody></table></section>
  <section class="card"><h2>Messages <small>signature verified in this page</small></h2><ol id="messages" class="log"></ol></section>
  <section class="card"><h2>Rejected</h2><ol id="rejected" class="log bad"></ol><div id="relay" class="muted"></div></section>
</main>
</body></html>
`;
}

const PAGE_CSS = `
body{margin:0;font:13px/1.4 system-ui,sans-serif;background:#0f1419;color:#d8dee4}
header{display:flex;gap:16px;align-items:baseline;padding:10px 16px;background:#161c22;border-bottom:1px solid #27313b}
h1{font-size:18px;margin:0}h2{font-size:13px;margin:0 0 8px;text-transform:uppercase;letter-spacing:.04em;color:#9fb0c0}
h2 small{text-transform:none;letter-spacing:0;color:#6b7b8a;font-weight:normal}
#status{color:#f0b43c}#status.ok{color:#5ccf7a}#me{color:#6b7b8a;font-family:monospace}
.counters{display:flex;gap:12px;padding:12px 16px;flex-wrap:wrap}.counters div{background:#161c22;border:1px solid #27313b;border-radius:6px;padding:8px 14px;min-width:110px}
.counters b{display:block;font-size:22px;color:#fff}.counters span{color:#8a9aaa}.counters .bad b{color:#ff6b6b}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px;padding:0 16px 16px}
.card{background:#161c22;border:1px solid #27313b;border-radius:6px;padding:10px 12px;min-height:120px;overflow:hidden}.wide{grid-column:span 2}
svg{width:100%;height:auto;display:block}.bar{display:flex;height:18px;border-radius:3px;overflow:hidden;background:#222b33}.bar div{height:100%}
.legend{display:flex;gap:10px;flex-wrap:wrap;margin:6px 0;color:#9fb0c0}.legend i{display:inline-block;width:9px;height:9px;margin-right:4px;border-radius:2px}
.lane{display:grid;grid-template-columns:repeat(4,1fr);gap:4px;font-family:monospace;font-size:11px}.lane div{background:#1d252d;border-radius:3px;padding:4px;min-height:60px}
.lane p{margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
table{width:100%;border-collapse:collapse;font-family:monospace;font-size:11px}td,th{text-align:left;padding:2px 4px;border-bottom:1px solid #222b33}
.log{margin:0;padding-left:18px;max-height:220px;overflow:auto;font-family:monospace;font-size:11px}.log li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.bad li{color:#ff8f8f}.muted{color:#6b7b8a;margin-top:6px}.pool{margin-bottom:6px}.pool span{display:inline-block;background:#223;border-radius:3px;padding:1px 5px;margin:2px;font-family:monospace;font-size:11px}
.gone{opacity:.35}
`;
