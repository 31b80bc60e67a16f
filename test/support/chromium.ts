// Real headless Chromium for the browser tests (packages/*/test/browser/): Debian's `chromium`
// at /usr/bin/chromium (or $CHROMIUM_PATH) driven by playwright-core, a fresh profile per
// launch; test pages bundled by esbuild with the `browser` condition and served on 127.0.0.1.
//
// Without Chromium: outside CI the suites skip (one notice per run, from chromium-setup.ts);
// with CI set they fail. A Chromium that is there but cannot start always fails.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { describerNeeding } from './prerequisite.js';

/** The Chromium binary: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The flags every test launch uses (the profile directory is added per launch). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Whether the binary is there. */
export const chromiumAvailable = existsSync(CHROMIUM_PATH);

/** True in CI (`CI` set to anything but empty, `0` or `false`): there a missing Chromium fails the browser suites. */
export const chromiumRequired = !['', '0', 'false'].includes((process.env.CI ?? '').trim().toLowerCase());

/** The one notice for a run without Chromium (the failure message in CI). */
export function missingChromiumNotice(): string {
  return [
    `Chromium not found at ${CHROMIUM_PATH}.`,
    chromiumRequired
      ? 'CI is set, so the browser test suites fail.'
      : 'The browser test suites (packages/*/test/browser/) are skipped (CI=true makes this a failure).',
    'Install it with `apt-get install -y chromium` (.ci/run does), or point CHROMIUM_PATH at a Chromium binary.',
  ].join('\n');
}

/**
 * `describe` for a suite that needs Chromium: the suite itself when the binary is there; in CI
 * without it, one failing test naming the path; otherwise a skipped suite.
 */
export const describeInChromium = describerNeeding(
  { path: CHROMIUM_PATH, available: chromiumAvailable, required: chromiumRequired, notice: missingChromiumNotice },
  'starts Chromium',
);

/** A launched Chromium with one page; `close()` ends it and removes its profile. */
export interface ChromiumSession {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught page errors and console errors seen so far (a healthy page has none). */
  readonly errors: string[];
  close(): Promise<void>;
}

/** Launches Chromium with `CHROMIUM_ARGS` and a fresh `--user-data-dir` (a new temporary directory). */
export async function launchChromium(): Promise<ChromiumSession> {
  const profile = await mkdtemp(join(tmpdir(), 'converge-chromium-'));
  let context: BrowserContext;
  try {
    // launchPersistentContext passes `profile` as --user-data-dir (playwright refuses it in args).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(`Chromium at ${CHROMIUM_PATH} did not start: ${(err as Error).message}`, { cause: err });
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return {
    context,
    page,
    errors,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Bundle options for code that runs in the page: ESM for browsers, the `browser` condition, workspace sources. */
const BROWSER_BUILD: BuildOptions & { write: false } = {
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'browser', // adds the `browser` condition (core's #platform -> platform.browser.ts)
  target: 'es2022',
  conditions: ['@converge/source'],
  logLevel: 'silent',
};

/** Bundles `entry` (a page module) for the browser; a `node:*` import fails the build (esbuild cannot resolve it there). */
export async function bundleForBrowser(entry: string): Promise<string> {
  const out = await build({ ...BROWSER_BUILD, entryPoints: [entry], sourcemap: 'inline' });
  return out.outputFiles[0]!.text;
}

/** Sizes of a minified browser bundle of `entry` (or of a module given as source text). */
export interface BundleSize {
  /** Minified bytes. */
  minified: number;
  /** Gzipped minified bytes (level 9). */
  gzip: number;
  /** The minified text (to inspect). */
  text: string;
  /** The source files bundled (paths relative to the working directory). */
  inputs: string[];
}

/** Minifies `entry` (a path, or `{ contents, resolveDir }` for an inline module) for the browser and measures it. */
export async function browserBundleSize(entry: string | { contents: string; resolveDir: string }): Promise<BundleSize> {
  const out = await build({
    ...BROWSER_BUILD,
    minify: true,
    metafile: true,
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, loader: 'ts' } }),
  });
  const text = out.outputFiles[0]!.text;
  return { minified: Buffer.byteLength(text), gzip: gzipSync(text, { level: 9 }).byteLength, text, inputs: Object.keys(out.metafile!.inputs) };
}

/** A static HTTP server on 127.0.0.1 for a test page: `/` loads `/page.js` as a module. */
export interface PageServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `script` as /page.js under a blank page at `/` on 127.0.0.1 (a free port). */
export async function servePage(script: string): Promise<PageServer> {
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>converge test</title></head><body><script type="module" src="/page.js"></script></body></html>';
  const server: Server = createServer((req, res) => {
    if (req.url === '/favicon.ico') res.writeHead(204).end();
    else if (req.url === '/' || req.url === '/index.html') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Opens `url` and waits until the page module has set `globalThis.__pageReady` (or throws with the page's errors). */
export async function openTestPage(session: ChromiumSession, url: string): Promise<void> {
  await session.page.goto(url);
  try {
    await session.page.waitForFunction(() => (globalThis as { __pageReady?: boolean }).__pageReady === true, undefined, { timeout: 30_000 });
  } catch (err) {
    throw new Error(`test page did not start: ${session.errors.join('; ') || (err as Error).message}`, { cause: err });
  }
}

/** A bundled test page open in Chromium for one suite (see `pageInChromium`). */
export interface SuitePage<P> {
  /** The Chromium session (valid inside the suite's tests). */
  readonly session: ChromiumSession;
  /** Calls `globalThis[global][name](...args)` in the page; resolves what it returns (awaited). */
  call<K extends keyof P>(
    this: void,
    name: K,
    ...args: P[K] extends (...a: infer A) => unknown ? A : never
  ): Promise<Awaited<P[K] extends (...a: never[]) => infer R ? R : never>>;
}

/**
 * For the suite it is called in (inside `describeInChromium`): before all its tests, launches
 * Chromium, bundles `pageModule` for the browser, serves it and waits until it is ready; after
 * all, closes both. The page module puts its functions on `globalThis[global]`.
 */
export function pageInChromium<P>(pageModule: string, global: string): SuitePage<P> {
  let session: ChromiumSession | undefined;
  let server: PageServer | undefined;
  beforeAll(async () => {
    session = await launchChromium();
    server = await servePage(await bundleForBrowser(pageModule));
    await openTestPage(session, server.url);
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });
  const started = (): ChromiumSession => {
    if (!session) throw new Error('the test page is not open (call pageInChromium inside the suite)');
    return session;
  };
  return {
    get session() {
      return started();
    },
    call: (name, ...args) =>
      started().page.evaluate(([g, n, a]) => (globalThis as unknown as Record<string, Record<string, (...x: unknown[]) => unknown>>)[g]![n]!(...a), [
        global,
        name as string,
        args as unknown[],
      ] as const) as never,
  };
}
